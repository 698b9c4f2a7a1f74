"""Small helpers over the low-level DynamoDB client: item (de)serialisation and error translation.

AWS errors never leave `store/`: they become `flowless.errors` classes here, with `raise ... from exc`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from flowless.settings import get_settings

__all__ = ["Table", "cancellation_codes", "error_code"]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: _deserializer.deserialize(v) for k, v in item.items()}
    # DynamoDB numbers come back as Decimal; every number we store is an integer.
    return {k: int(v) if type(v).__name__ == "Decimal" else v for k, v in out.items()}


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError, or "" for anything else."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: Exception) -> list[str]:
    """Per-action reason codes of a cancelled transaction ("None" where that action was fine)."""
    response = getattr(exc, "response", None) or {}
    return [str(r.get("Code", "None")) for r in response.get("CancellationReasons", [])]


def _request_to_wire(request: Mapping[str, Any]) -> dict[str, Any]:
    if "PutRequest" in request:
        return {"PutRequest": {"Item": _to_wire(request["PutRequest"]["Item"])}}
    return {"DeleteRequest": {"Key": _to_wire(request["DeleteRequest"]["Key"])}}


class Table:
    """The one table, through the low-level client, speaking plain Python dicts."""

    def __init__(self, client: Any = None, name: str | None = None) -> None:
        if client is None:
            from flowless.store.aws import client as shared_client

            client = shared_client("dynamodb")
        self.client = client
        self.name = name or get_settings().table_name

    def get(self, pk: str, sk: str, *, consistent: bool = True, projection: str | None = None) -> dict[str, Any] | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": _to_wire({"PK": pk, "SK": sk}),
                                  "ConsistentRead": consistent}
        if projection:
            names = {f"#p{i}": name for i, name in enumerate(projection.split(","))}
            kwargs["ProjectionExpression"] = ",".join(names)
            kwargs["ExpressionAttributeNames"] = names
        answer = self.client.get_item(**kwargs)
        item = answer.get("Item")
        return _from_wire(item) if item else None

    def put(self, item: Mapping[str, Any], *, condition: str | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": _to_wire(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        self.client.put_item(**kwargs)

    def query_prefix(
        self, pk: str, sk_prefix: str, *, projection: str | None = None, forward: bool = True,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of partition `pk` whose SK starts with `sk_prefix` (at most `limit`), following pages."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
            "ExpressionAttributeValues": _to_wire({":pk": pk, ":sk": sk_prefix}),
            "ConsistentRead": True,
            "ScanIndexForward": forward,
        }
        if projection:
            names = {f"#p{i}": name for i, name in enumerate(projection.split(","))}
            kwargs["ProjectionExpression"] = ",".join(names)
            kwargs["ExpressionAttributeNames"] = names
        remaining = limit
        while True:
            if remaining is not None:
                kwargs["Limit"] = remaining
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                yield _from_wire(item)
            if remaining is not None:
                remaining -= len(page.get("Items", []))
                if remaining <= 0:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def batch_write(self, requests: list[dict[str, Any]], *, retries: int = 5) -> None:
        """Up to 25 PutRequest/DeleteRequest entries (plain dicts); unprocessed ones are retried with backoff."""
        import time

        pending = [_request_to_wire(r) for r in requests]
        for attempt in range(retries + 1):
            if not pending:
                return
            answer = self.client.batch_write_item(RequestItems={self.name: pending})
            pending = answer.get("UnprocessedItems", {}).get(self.name, [])
            if pending and attempt < retries:
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
        if pending:
            raise RuntimeError(f"DynamoDB left {len(pending)} writes unprocessed after {retries} retries")

    def query_index(self, gsi_pk: str) -> Iterator[dict[str, Any]]:
        """Every item whose GSI1PK is `gsi_pk` (eventually consistent, as every GSI read)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": _to_wire({":pk": gsi_pk}),
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                yield _from_wire(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def transact(self, actions: list[dict[str, Any]]) -> None:
        """Write actions atomically. Each action is {"Put"|"Delete"|"Update"|"ConditionCheck": {...}}
        with plain-dict Item/Key/ExpressionAttributeValues; the table name is filled in here."""
        wire: list[dict[str, Any]] = []
        for action in actions:
            ((kind, spec),) = action.items()
            body: dict[str, Any] = {"TableName": self.name}
            for field, value in spec.items():
                if field in ("Item", "Key", "ExpressionAttributeValues"):
                    body[field] = _to_wire(value)
                else:
                    body[field] = value
            wire.append({kind: body})
        self.client.transact_write_items(TransactItems=wire)

    def update(self, key: Mapping[str, Any], expression: str, *, condition: str | None = None,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> bool:
        """UpdateItem; False when the condition does not hold (nothing written)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": _to_wire(key), "UpdateExpression": expression}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if values:
            kwargs["ExpressionAttributeValues"] = _to_wire(values)
        try:
            self.client.update_item(**kwargs)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self.name, Key=_to_wire({"PK": pk, "SK": sk}))
