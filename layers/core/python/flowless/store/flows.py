"""Flows: metadata in DynamoDB, the graph (`data`) inline or in S3, names unique per user.

Each update is a conditional write on the item's `version`: a writer that read an older version loses
the condition and re-reads (or, when it named the version it expected, gets a ConflictError), so a
concurrent update is never silently overwritten. Name and endpoint-name claims are written in the same
transaction as the flow, so two flows can never hold the same name.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import ConflictError, DuplicateError, NotFoundError
from flowless.store._dynamo import Table, cancellation_codes, error_code
from flowless.store.aws import BucketAccess
from flowless.store.names import next_free_name

__all__ = ["INLINE_DATA_LIMIT", "Flow", "FlowRepository"]

# Flows a warm container has run, newest last, reused while their version is unchanged (see get_for_run).
_RUN_CACHE_SIZE = 16
_run_cache: OrderedDict[tuple[str, str], Flow] = OrderedDict()

# DynamoDB items stop at 400 KB including attribute names; leave room for the metadata.
INLINE_DATA_LIMIT = 350_000
_RETRIES = 8


@dataclass
class Flow:
    id: str
    user_id: str
    name: str
    folder_id: str | None = None
    description: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    is_component: bool = False
    updated_at: str = field(default_factory=now_iso)
    webhook: bool = False
    endpoint_name: str | None = None
    tags: list[str] = field(default_factory=list)
    locked: bool = False
    mcp_enabled: bool = False
    action_name: str | None = None
    action_description: str | None = None
    access_type: str = "PRIVATE"
    fs_path: str | None = None
    created_at: str | None = None
    # What only DB-GPT's flow API knows (label, state, source, sys_code, ...): kept beside Langflow's fields
    # so both doors read and write the one record.
    dbgpt: dict[str, Any] | None = None
    version: int = 0


_EDITABLE = {f.name for f in fields(Flow)} - {"id", "user_id", "version", "updated_at", "created_at"}
_SCALARS = [f.name for f in fields(Flow) if f.name not in ("data", "dbgpt")]


def _has_webhook(data: dict[str, Any] | None) -> bool:
    nodes = (data or {}).get("nodes") or []
    return any("Webhook" in str(node.get("id", "")) for node in nodes if isinstance(node, dict))


class FlowRepository(BucketAccess):
    """A user's flows."""

    def __init__(self, table: Table | None = None, s3: Any = None, bucket: str | None = None) -> None:
        super().__init__(s3, bucket)
        self.table = table or Table()


    # ---- item <-> record -------------------------------------------------------------------------

    def _to_item(self, flow: Flow, data_key: str | None, data_json: str | None) -> dict[str, Any]:
        item = {name: getattr(flow, name) for name in _SCALARS}
        item.update({
            "PK": f"USER#{flow.user_id}",
            "SK": f"FLOW#{flow.id}",
            "GSI1PK": f"FLOW#{flow.id}",
            "GSI1SK": "FLOW",
            "type": "flow",
        })
        if data_key:
            item["data_s3_key"] = data_key
        elif data_json is not None:
            item["data"] = data_json
        if flow.dbgpt:
            item["dbgpt"] = json.dumps(flow.dbgpt, ensure_ascii=False, separators=(",", ":"))
        return item

    def _from_item(self, item: dict[str, Any], *, with_data: bool = True) -> Flow:
        values = {name: item.get(name) for name in _SCALARS if name in item}
        flow = Flow(**values)
        flow.tags = list(item.get("tags") or [])
        if item.get("dbgpt"):
            flow.dbgpt = json.loads(item["dbgpt"])
        if with_data:
            if "data_s3_key" in item:
                body = self.s3.get_object(Bucket=self.bucket, Key=item["data_s3_key"])["Body"].read()
                flow.data = json.loads(body)
            elif "data" in item:
                flow.data = json.loads(item["data"])
        return flow

    def _store_data(self, flow: Flow) -> tuple[str | None, str | None]:
        """Serialise `data`; past the inline limit, put it in S3 and return its key instead."""
        if flow.data is None:
            return None, None
        data_json = json.dumps(flow.data, ensure_ascii=False, separators=(",", ":"))
        if len(data_json.encode()) <= INLINE_DATA_LIMIT:
            return None, data_json
        key = f"flows/{flow.user_id}/{flow.id}/{uuid.uuid4().hex}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data_json.encode(), ContentType="application/json")
        return key, None

    def _drop_data(self, key: str | None) -> None:
        if key:
            self.s3.delete_object(Bucket=self.bucket, Key=key)

    # ---- names -----------------------------------------------------------------------------------

    def _taken(self, user_id: str, kind: str, prefix: str) -> list[str]:
        return [
            item["SK"].removeprefix(f"{kind}#")
            for item in self.table.query_prefix(f"USER#{user_id}", f"{kind}#{prefix}", projection="SK")
        ]

    @staticmethod
    def _claim(flow: Flow, kind: str, value: str) -> dict[str, Any]:
        item: dict[str, Any] = {"PK": f"USER#{flow.user_id}", "SK": f"{kind}#{value}", "flow_id": flow.id}
        if kind == "ENDPOINT":
            # Lets a caller without a key (webhooks) find a flow by endpoint name.
            item.update({"GSI1PK": f"ENDPOINT#{value}", "GSI1SK": flow.user_id})
        return item

    # ---- reads -----------------------------------------------------------------------------------

    def get(self, *, user_id: str, flow_id: str) -> Flow:
        """One of the user's flows; another user's flow is NotFoundError."""
        item = self.table.get(f"USER#{user_id}", f"FLOW#{flow_id}")
        if item is None:
            raise NotFoundError("Flow not found")
        return self._from_item(item)

    def get_for_run(self, *, user_id: str, flow_id: str) -> Flow:
        """Like `get`, but a flow this container has already read is reused while its version is unchanged:
        the check reads only the version, which is a fraction of a flow item. Callers must not change it."""
        key = (user_id, flow_id)
        cached = _run_cache.get(key)
        if cached is not None:
            head = self.table.get(f"USER#{user_id}", f"FLOW#{flow_id}", projection="version")
            if head is None:
                _run_cache.pop(key, None)
                raise NotFoundError("Flow not found")
            if head.get("version") == cached.version:
                _run_cache.move_to_end(key)
                return cached
        flow = self.get(user_id=user_id, flow_id=flow_id)
        _run_cache[key] = flow
        while len(_run_cache) > _RUN_CACHE_SIZE:
            _run_cache.popitem(last=False)
        return flow

    def owner_of(self, flow_id_or_endpoint: str, *, by_endpoint: bool) -> tuple[str, str] | None:
        """(user_id, flow_id) of a flow found without a caller (webhooks, uploads): by id, or by endpoint name
        (the oldest claim wins when several users chose the same name, as Langflow takes the first row)."""
        if by_endpoint:
            for claim in self.table.query_index(f"ENDPOINT#{flow_id_or_endpoint}"):
                return str(claim["GSI1SK"]), str(claim["flow_id"])
            return None
        for item in self.table.query_index(f"FLOW#{flow_id_or_endpoint}"):
            return str(item["user_id"]), str(item["id"])
        return None

    def flow_id_for_endpoint(self, *, user_id: str, endpoint_name: str) -> str | None:
        """The id of the user's flow with this endpoint name (one small read of the name's claim)."""
        claim = self.table.get(f"USER#{user_id}", f"ENDPOINT#{endpoint_name}")
        return str(claim["flow_id"]) if claim else None

    def find_by_endpoint(self, *, user_id: str, endpoint_name: str) -> Flow | None:
        claim = self.table.get(f"USER#{user_id}", f"ENDPOINT#{endpoint_name}")
        if claim is None:
            return None
        item = self.table.get(f"USER#{user_id}", f"FLOW#{claim['flow_id']}")
        return self._from_item(item) if item else None

    def list_for(self, user_id: str, *, with_data: bool = True) -> list[Flow]:
        """Every flow of the user, oldest first."""
        flows = [self._from_item(i, with_data=with_data)
                 for i in self.table.query_prefix(f"USER#{user_id}", "FLOW#")]
        return flows

    # ---- writes ----------------------------------------------------------------------------------

    def create(self, *, user_id: str, values: dict[str, Any], flow_id: str | None = None,
               unique_name: bool = False) -> Flow:
        """Create a flow. A taken name becomes "Name (n)" (or, with `unique_name`, a DuplicateError) and a taken
        endpoint name "name-n". A caller-chosen `flow_id` (DB-GPT's clients pick the uid) must be free for
        every user: ids are global, since webhooks and uploads find a flow by its id alone."""
        unknown = set(values) - _EDITABLE
        if unknown:
            raise ValueError(f"not flow fields: {sorted(unknown)}")
        if flow_id is not None and any(True for _ in self.table.query_index(f"FLOW#{flow_id}")):
            raise DuplicateError(f"Flow {flow_id} already exists")
        flow = Flow(id=flow_id or new_id(), user_id=user_id, **values)
        flow.webhook = flow.webhook or _has_webhook(flow.data)
        flow.version = 1
        flow.updated_at = now_iso()
        flow.created_at = flow.updated_at
        data_key, data_json = self._store_data(flow)
        wanted_name, wanted_endpoint = flow.name, flow.endpoint_name
        try:
            for _ in range(_RETRIES):
                if unique_name:
                    flow.name = wanted_name
                else:
                    flow.name = next_free_name(wanted_name, self._taken(user_id, "FLOWNAME", wanted_name))
                actions = [
                    {"Put": {"Item": self._claim(flow, "FLOWNAME", flow.name),
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"Item": self._to_item(flow, data_key, data_json),
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                ]
                if wanted_endpoint:
                    flow.endpoint_name = next_free_name(
                        wanted_endpoint, self._taken(user_id, "ENDPOINT", wanted_endpoint), style="dash"
                    )
                    actions.append({"Put": {"Item": self._claim(flow, "ENDPOINT", flow.endpoint_name),
                                            "ConditionExpression": "attribute_not_exists(PK)"}})
                if flow_id is not None:
                    # The id's claim: a second create with the same chosen id, racing this one, fails.
                    actions.append({"Put": {"Item": {"PK": f"FLOWID#{flow.id}", "SK": "FLOWID", "user_id": user_id},
                                            "ConditionExpression": "attribute_not_exists(PK)"}})
                try:
                    self.table.transact(actions)
                    return flow
                except Exception as exc:
                    if error_code(exc) != "TransactionCanceledException":
                        raise
                    codes = cancellation_codes(exc)
                    if flow_id is not None and codes and codes[-1] == "ConditionalCheckFailed":
                        raise DuplicateError(f"Flow {flow_id} already exists") from exc
                    if unique_name and codes and codes[0] == "ConditionalCheckFailed":
                        raise DuplicateError(f"A flow named {wanted_name!r} already exists") from exc
                    # A racing create took a name between our read and our write: pick again.
            raise ConflictError("Could not find a free flow name; try again")
        except BaseException:
            self._drop_data(data_key)
            raise

    def update(
        self, *, user_id: str, flow_id: str, changes: dict[str, Any] | Callable[[Flow], None],
        expected_version: int | None = None,
    ) -> Flow:
        """Apply `changes` (field values, or a function editing the Flow) with optimistic locking.

        Without `expected_version`, a lost race re-reads and re-applies the changes; with it, a flow
        that moved on raises ConflictError. A taken name or endpoint name raises DuplicateError.
        """
        if isinstance(changes, dict):
            unknown = set(changes) - _EDITABLE
            if unknown:
                raise ValueError(f"not flow fields: {sorted(unknown)}")
        for _ in range(_RETRIES):
            current_item = self.table.get(f"USER#{user_id}", f"FLOW#{flow_id}")
            if current_item is None:
                raise NotFoundError("Flow not found")
            current = self._from_item(current_item)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(
                    f"Flow {flow_id} was changed by someone else (version {current.version}, "
                    f"expected {expected_version})"
                )
            flow = self._from_item(current_item)
            if callable(changes):
                changes(flow)
            else:
                for name, value in changes.items():
                    setattr(flow, name, value)
            flow.webhook = _has_webhook(flow.data)
            flow.updated_at = now_iso()
            flow.version = current.version + 1
            data_changed = flow.data != current.data
            if data_changed:
                data_key, data_json = self._store_data(flow)
            else:
                data_key, data_json = current_item.get("data_s3_key"), current_item.get("data")
            actions = [{"Put": {
                "Item": self._to_item(flow, data_key, data_json),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": current.version},
            }}]
            claim_kinds: list[str] = []
            for kind, old, new in (("FLOWNAME", current.name, flow.name),
                                   ("ENDPOINT", current.endpoint_name, flow.endpoint_name)):
                if old == new:
                    continue
                if new:
                    actions.append({"Put": {"Item": self._claim(flow, kind, new),
                                            "ConditionExpression": "attribute_not_exists(PK)"}})
                    claim_kinds.append(kind)
                if old:
                    actions.append({"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"{kind}#{old}"}}})
                    claim_kinds.append("")
            try:
                self.table.transact(actions)
            except Exception as exc:
                if data_changed:
                    self._drop_data(data_key)
                if error_code(exc) != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(exc)
                for kind, code in zip(claim_kinds, codes[1:], strict=False):
                    if code == "ConditionalCheckFailed" and kind:
                        what = "Name" if kind == "FLOWNAME" else "Endpoint name"
                        raise DuplicateError(f"{what} must be unique") from exc
                if expected_version is not None:
                    raise ConflictError(f"Flow {flow_id} was changed by someone else") from exc
                continue  # lost the race on `version`: read again and re-apply
            if data_changed:
                self._drop_data(current_item.get("data_s3_key"))
            return flow
        raise ConflictError(f"Flow {flow_id} is being changed by others; try again")

    def delete(self, *, user_id: str, flow_id: str) -> Flow:
        """Delete one of the user's flows with its name claims and stored data."""
        item = self.table.get(f"USER#{user_id}", f"FLOW#{flow_id}")
        if item is None:
            raise NotFoundError("Flow not found")
        flow = self._from_item(item, with_data=False)
        actions: list[dict[str, Any]] = [
            {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"FLOW#{flow_id}"}}},
            {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"FLOWNAME#{flow.name}"}}},
        ]
        if flow.endpoint_name:
            actions.append({"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"ENDPOINT#{flow.endpoint_name}"}}})
        # The id's claim, if a client chose the id (deleting an absent item is a no-op).
        actions.append({"Delete": {"Key": {"PK": f"FLOWID#{flow_id}", "SK": "FLOWID"}}})
        self.table.transact(actions)
        self._drop_data(item.get("data_s3_key"))
        from flowless.store.messages import MessageRepository

        # Langflow deletes a flow's messages with it.
        MessageRepository(self.table).delete_flow(user_id=user_id, flow_id=flow_id)
        return flow

    def delete_many(self, *, user_id: str, flow_ids: Iterable[str]) -> int:
        """Delete those of `flow_ids` that are the user's; unknown ids are ignored."""
        deleted = 0
        for flow_id in flow_ids:
            try:
                self.delete(user_id=user_id, flow_id=flow_id)
            except NotFoundError:
                continue
            deleted += 1
        return deleted
