"""Chat messages: per owner, flow and session, in order, written in batches, gone with their flow."""

from __future__ import annotations

import uuid

from flowless.store.flows import FlowRepository
from flowless.store.messages import MessageRepository


def _message(session: str, text: str, sender: str = "User") -> dict:
    return {"id": str(uuid.uuid4()), "session_id": session, "text": text, "sender": sender,
            "sender_name": sender, "properties": {"score": 0.5, "source": None}, "files": []}


def test_history_is_per_session_in_write_order(aws):
    repo = MessageRepository()
    repo.add_many(user_id="u1", flow_id="f1", messages=[_message("s1", f"m{i}") for i in range(30)])
    repo.add_many(user_id="u1", flow_id="f1", messages=[_message("s1#x", "other session")])
    texts = [m.text for m in repo.history(user_id="u1", flow_id="f1", session_id="s1")]
    assert texts == [f"m{i}" for i in range(30)]
    assert [m.text for m in repo.history(user_id="u1", flow_id="f1", session_id="s1#x")] == ["other session"]
    # Floats and nulls survive the round trip.
    assert repo.history(user_id="u1", flow_id="f1", session_id="s1")[0].fields["properties"] == {
        "score": 0.5, "source": None}


def test_history_limit_keeps_the_newest(aws):
    repo = MessageRepository()
    repo.add_many(user_id="u1", flow_id="f1", messages=[_message("s", f"m{i}") for i in range(5)])
    assert [m.text for m in repo.history(user_id="u1", flow_id="f1", session_id="s", limit=2)] == ["m3", "m4"]


def test_history_is_scoped_to_owner_and_flow(aws):
    repo = MessageRepository()
    repo.add_many(user_id="u1", flow_id="f1", messages=[_message("s", "mine")])
    assert repo.history(user_id="u2", flow_id="f1", session_id="s") == []
    assert repo.history(user_id="u1", flow_id="f2", session_id="s") == []


def test_one_batch_call_for_a_run(aws):
    repo = MessageRepository()
    calls = []
    repo.table.client.meta.events.register("before-call.dynamodb.*", lambda **kw: calls.append(kw["event_name"]))
    repo.add_many(user_id="u1", flow_id="f1", messages=[_message("s", "q"), _message("s", "a", "Machine")])
    assert calls == ["before-call.dynamodb.BatchWriteItem"]


def test_deleting_a_flow_deletes_its_messages(aws):
    flows = FlowRepository()
    flow = flows.create(user_id="u1", values={"name": "Chat", "data": {"nodes": [], "edges": []}})
    repo = MessageRepository()
    repo.add_many(user_id="u1", flow_id=flow.id, messages=[_message(f"s{i}", "x") for i in range(40)])
    flows.delete(user_id="u1", flow_id=flow.id)
    assert all(repo.history(user_id="u1", flow_id=flow.id, session_id=f"s{i}") == [] for i in range(40))
