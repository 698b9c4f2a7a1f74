"""Build jobs: one claim per job, statuses that stay ended, and an event log read back in pages."""

from __future__ import annotations

import pytest

from flowless.errors import NotFoundError
from flowless.store.jobs import JobRepository


def test_a_job_is_created_queued_and_scoped_to_its_user(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1", request={"inputs": {"input_value": "hi"}})
    found = jobs.get(user_id="u1", job_id=job.id)
    assert (found.flow_id, found.status, found.request) == ("f1", "QUEUED", {"inputs": {"input_value": "hi"}})
    assert jobs.status(user_id="u1", job_id=job.id) == "QUEUED"
    with pytest.raises(NotFoundError, match="Job not found"):
        jobs.get(user_id="u2", job_id=job.id)
    with pytest.raises(NotFoundError, match="Job not found"):
        jobs.get(user_id="u1", job_id="missing")
    assert jobs.status(user_id="u2", job_id=job.id) is None


def test_a_job_is_claimed_once(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    assert jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m1")
    assert not jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m2")  # a duplicate copy
    assert jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m1")  # m1 redelivered: retry
    assert jobs.get(user_id="u1", job_id=job.id).status == "RUNNING"
    assert jobs.set_status(user_id="u1", job_id=job.id, status="DONE")
    assert not jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m1")
    assert not jobs.claim(user_id="u1", job_id="missing", lease_seconds=60, claimer="m1")


def test_an_expired_lease_lets_another_delivery_take_over(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    assert jobs.claim(user_id="u1", job_id=job.id, lease_seconds=-5, claimer="m1")
    assert jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m2")


def test_a_cancel_is_final(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    assert jobs.cancel(user_id="u1", job_id=job.id)
    assert not jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m1")
    assert not jobs.set_status(user_id="u1", job_id=job.id, status="DONE")  # a late end does not undo it
    assert not jobs.cancel(user_id="u1", job_id=job.id)
    assert jobs.get(user_id="u1", job_id=job.id).status == "CANCELLED"
    with pytest.raises(NotFoundError):
        jobs.cancel(user_id="u2", job_id=job.id)


def test_events_are_read_back_in_order_after_a_sequence_number(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    assert jobs.last_seq(job.id) == 0
    events = [{"event": "token", "data": {"chunk": str(n)}} for n in range(30)]
    assert jobs.append(job.id, events, first_seq=1) == 31  # more than one BatchWriteItem
    assert jobs.last_seq(job.id) == 30
    first = jobs.events_after(job.id, 0, limit=12)
    assert [seq for seq, _ in first] == list(range(1, 13))
    assert first[0][1] == {"event": "token", "data": {"chunk": "0"}}
    rest = jobs.events_after(job.id, first[-1][0], limit=100)
    assert [seq for seq, _ in rest] == list(range(13, 31))
    assert jobs.events_after(job.id, 30) == []
    assert jobs.events_after("another-job", 0) == []


def test_a_large_event_is_kept_in_s3(aws):
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    big = {"event": "end_vertex", "data": {"build_data": {"blob": "x" * 400_000}}}
    jobs.append(job.id, [big, {"event": "end", "data": {}}], first_seq=1)
    assert jobs.events_after(job.id) == [(1, big), (2, {"event": "end", "data": {}})]
