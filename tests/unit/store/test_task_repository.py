"""Tasks: the claim that makes a queued run happen once, and the ends a task can reach."""

from __future__ import annotations

import pytest

from flowless.errors import NotFoundError
from flowless.store.tasks import TaskRepository


def test_a_task_is_claimed_once_then_finished(aws):
    tasks = TaskRepository()
    task = tasks.create(user_id="u1", flow_id="f1", source="webhook")
    assert tasks.get(user_id="u1", task_id=task.id).status == "PENDING"
    assert tasks.claim(user_id="u1", task_id=task.id, lease_seconds=60, claimer="m1")
    assert not tasks.claim(user_id="u1", task_id=task.id, lease_seconds=60, claimer="m2")  # a duplicate copy
    assert tasks.claim(user_id="u1", task_id=task.id, lease_seconds=60, claimer="m1")  # m1 redelivered: retry
    assert tasks.finish(user_id="u1", task_id=task.id, result={"ok": True})
    done = tasks.get(user_id="u1", task_id=task.id)
    assert (done.status, done.result, done.attempts) == ("SUCCESS", {"ok": True}, 2)
    assert not tasks.claim(user_id="u1", task_id=task.id, lease_seconds=60, claimer="m1")
    assert not tasks.fail_unfinished(user_id="u1", task_id=task.id, error="late")


def test_an_expired_lease_lets_another_delivery_take_over(aws):
    tasks = TaskRepository()
    task = tasks.create(user_id="u1", flow_id="f1", source="webhook")
    assert tasks.claim(user_id="u1", task_id=task.id, lease_seconds=-5, claimer="m1")
    assert tasks.claim(user_id="u1", task_id=task.id, lease_seconds=60, claimer="m2")


def test_unfinished_tasks_can_be_failed_and_tasks_are_scoped(aws):
    tasks = TaskRepository()
    task = tasks.create(user_id="u1", flow_id="f1", source="upload")
    assert tasks.fail_unfinished(user_id="u1", task_id=task.id, error="gave up")
    failed = tasks.get(user_id="u1", task_id=task.id)
    assert (failed.status, failed.error) == ("FAILURE", "gave up")
    with pytest.raises(NotFoundError):
        tasks.get(user_id="u2", task_id=task.id)
    assert not tasks.claim(user_id="u1", task_id="missing", lease_seconds=60, claimer="m")
