"""FlowRepository against moto: naming rules, large graphs in S3, optimistic locking, scoping."""

from __future__ import annotations

import json

import pytest

from flowless.errors import ConflictError, DuplicateError, NotFoundError
from flowless.store.flows import INLINE_DATA_LIMIT, FlowRepository


def _graph(size: int = 0) -> dict:
    # A node whose template holds `size` characters of text, so the graph's size is controllable.
    return {"nodes": [{"id": "TextInput-abcde", "data": {"type": "TextInput", "node": {"template": {
        "input_value": {"value": "x" * size}}}}}], "edges": []}


def test_created_flow_reads_back_with_its_data(aws):
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Flow", "data": _graph(10)})
    read = repo.get(user_id="u1", flow_id=created.id)
    assert read.data == _graph(10)
    assert read.version == 1


def test_taken_names_get_one_more_than_the_highest_suffix(aws):
    repo = FlowRepository()
    names = [repo.create(user_id="u1", values={"name": "Flow"}).name for _ in range(3)]
    assert names == ["Flow", "Flow (1)", "Flow (2)"]
    repo.create(user_id="u1", values={"name": "Flow (7)"})
    assert repo.create(user_id="u1", values={"name": "Flow"}).name == "Flow (8)"


def test_same_name_for_two_users_is_not_suffixed(aws):
    repo = FlowRepository()
    assert repo.create(user_id="u1", values={"name": "Flow"}).name == "Flow"
    assert repo.create(user_id="u2", values={"name": "Flow"}).name == "Flow"


def test_taken_endpoint_names_get_a_dash_suffix(aws):
    repo = FlowRepository()
    first = repo.create(user_id="u1", values={"name": "a", "endpoint_name": "my-flow"})
    second = repo.create(user_id="u1", values={"name": "b", "endpoint_name": "my-flow"})
    assert (first.endpoint_name, second.endpoint_name) == ("my-flow", "my-flow-1")
    assert repo.find_by_endpoint(user_id="u1", endpoint_name="my-flow-1").id == second.id


def test_a_5_mb_flow_goes_to_s3_and_round_trips_byte_identical(aws):
    import boto3

    repo = FlowRepository()
    data = _graph(5 * 1024 * 1024)
    created = repo.create(user_id="u1", values={"name": "Big", "data": data})
    read = repo.get(user_id="u1", flow_id=created.id)
    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    assert json.dumps(read.data, ensure_ascii=False, separators=(",", ":")).encode() == expected
    # The item itself stays small: the graph lives in S3 under a key we made.
    item = repo.table.get("USER#u1", f"FLOW#{created.id}")
    assert "data" not in item and item["data_s3_key"].startswith(f"flows/u1/{created.id}/")
    body = boto3.client("s3").get_object(Bucket=repo.bucket, Key=item["data_s3_key"])["Body"].read()
    assert body == expected


def test_small_flow_data_is_stored_inline(aws):
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Small", "data": _graph(INLINE_DATA_LIMIT // 2)})
    item = repo.table.get("USER#u1", f"FLOW#{created.id}")
    assert "data" in item and "data_s3_key" not in item


def test_shrinking_a_large_flow_removes_its_s3_copy(aws):
    import boto3

    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Big", "data": _graph(INLINE_DATA_LIMIT + 10)})
    old_key = repo.table.get("USER#u1", f"FLOW#{created.id}")["data_s3_key"]
    repo.update(user_id="u1", flow_id=created.id, changes={"data": _graph(5)})
    assert repo.get(user_id="u1", flow_id=created.id).data == _graph(5)
    listed = boto3.client("s3").list_objects_v2(Bucket=repo.bucket, Prefix=old_key)
    assert listed.get("KeyCount", 0) == 0


def test_update_with_stale_version_raises_conflict_error(aws):
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Flow"})
    repo.update(user_id="u1", flow_id=created.id, changes={"description": "first"})
    with pytest.raises(ConflictError):
        repo.update(user_id="u1", flow_id=created.id, changes={"description": "late"}, expected_version=1)
    assert repo.get(user_id="u1", flow_id=created.id).description == "first"


def test_an_update_that_loses_the_race_re_reads_and_keeps_both_changes(aws):
    # GIVEN writer A has read version 1 and is about to write
    # WHEN writer B commits in between (moto does not serialise threads, so the race is staged)
    # THEN A's conditional write fails, A re-reads version 2 and re-applies its change on top of B's
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Flow", "tags": []})
    calls = []

    def writer_a(flow):
        calls.append(flow.version)
        if len(calls) == 1:
            FlowRepository().update(user_id="u1", flow_id=created.id, changes=lambda f: f.tags.append("b"))
        flow.tags.append("a")

    repo.update(user_id="u1", flow_id=created.id, changes=writer_a)
    final = repo.get(user_id="u1", flow_id=created.id)
    assert calls == [1, 2]
    assert final.tags == ["b", "a"]
    assert final.version == 3


def test_sequential_updates_from_many_writers_are_all_applied(aws):
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Flow", "tags": []})
    for i in range(5):
        FlowRepository().update(user_id="u1", flow_id=created.id, changes=lambda f, i=i: f.tags.append(f"t{i}"))
    final = repo.get(user_id="u1", flow_id=created.id)
    assert final.tags == [f"t{i}" for i in range(5)] and final.version == 6


def test_rename_to_a_taken_name_raises_duplicate_error_and_keeps_the_flow(aws):
    repo = FlowRepository()
    repo.create(user_id="u1", values={"name": "A"})
    b = repo.create(user_id="u1", values={"name": "B"})
    with pytest.raises(DuplicateError):
        repo.update(user_id="u1", flow_id=b.id, changes={"name": "A"})
    assert repo.get(user_id="u1", flow_id=b.id).name == "B"


def test_rename_frees_the_old_name(aws):
    repo = FlowRepository()
    a = repo.create(user_id="u1", values={"name": "A", "endpoint_name": "ep"})
    repo.update(user_id="u1", flow_id=a.id, changes={"name": "A2", "endpoint_name": None})
    assert repo.create(user_id="u1", values={"name": "A", "endpoint_name": "ep"}).name == "A"
    assert repo.find_by_endpoint(user_id="u1", endpoint_name="ep").name == "A"


def test_another_users_flow_is_not_found(aws):
    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Mine"})
    with pytest.raises(NotFoundError):
        repo.get(user_id="u2", flow_id=created.id)
    with pytest.raises(NotFoundError):
        repo.update(user_id="u2", flow_id=created.id, changes={"name": "Stolen"})
    with pytest.raises(NotFoundError):
        repo.delete(user_id="u2", flow_id=created.id)
    assert repo.get(user_id="u1", flow_id=created.id).name == "Mine"


def test_delete_removes_the_flow_its_names_and_its_s3_data(aws):
    import boto3

    repo = FlowRepository()
    created = repo.create(user_id="u1", values={"name": "Big", "endpoint_name": "big",
                                                "data": _graph(INLINE_DATA_LIMIT + 10)})
    repo.delete(user_id="u1", flow_id=created.id)
    with pytest.raises(NotFoundError):
        repo.get(user_id="u1", flow_id=created.id)
    assert list(repo.table.query_prefix("USER#u1", "FLOW")) == []
    assert list(repo.table.query_prefix("USER#u1", "ENDPOINT")) == []
    assert boto3.client("s3").list_objects_v2(Bucket=repo.bucket, Prefix="flows/u1/").get("KeyCount", 0) == 0


def test_a_run_rereads_a_flow_only_when_its_version_changed(aws):
    repo = FlowRepository()
    flow = repo.create(user_id="u1", values={"name": "Cached", "data": {"nodes": [], "edges": [], "v": 1}})
    calls = []
    repo.table.client.meta.events.register("provide-client-params.dynamodb.GetItem",
                                           lambda params, **_: calls.append(params.get("ProjectionExpression")))
    assert repo.get_for_run(user_id="u1", flow_id=flow.id).data["v"] == 1
    assert repo.get_for_run(user_id="u1", flow_id=flow.id).data["v"] == 1
    assert calls[-1] is not None  # the second read asked for the version only
    repo.update(user_id="u1", flow_id=flow.id, changes={"data": {"nodes": [], "edges": [], "v": 2}})
    assert repo.get_for_run(user_id="u1", flow_id=flow.id).data["v"] == 2
    repo.delete(user_id="u1", flow_id=flow.id)
    with pytest.raises(NotFoundError):
        repo.get_for_run(user_id="u1", flow_id=flow.id)
    with pytest.raises(NotFoundError):
        repo.get_for_run(user_id="u2", flow_id=flow.id)
