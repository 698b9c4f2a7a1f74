"""Apps (DB-GPT's GptsApp): each user's own, under the user's partition, with optimistic locking.

An app is one item. Its list and dict fields (`details`, a dict `team_context`) are kept as JSON text, since
the table's serializer takes no floats and a client may send any JSON inside them. Each update is a
conditional write on `version`, as for flows: a writer that read an older version re-reads and re-applies
its change, so a concurrent edit is never silently overwritten. Names need not be unique.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

from flowless.clock import new_id, now_iso
from flowless.errors import ConflictError, DuplicateError, NotFoundError
from flowless.store._dynamo import Table, error_code

__all__ = ["App", "AppDetail", "AppRepository", "AppResource"]

_RETRIES = 8


class AppResource(TypedDict):
    """A resource an agent of the app uses; `value` is always text (a dict arrives as JSON)."""

    type: str
    name: str
    value: str
    is_dynamic: bool


class AppDetail(TypedDict):
    """One agent node of an app, as DB-GPT's GptsAppDetail."""

    app_code: str
    app_name: str | None
    agent_name: str | None
    node_id: str | None
    resources: list[AppResource]
    prompt_template: str | None
    llm_strategy: str | None
    llm_strategy_value: str | None
    created_at: str
    updated_at: str


@dataclass
class App:
    """A stored app; `team_context` is a string, a dict (a flow binding carries the flow's "uid") or None."""

    app_code: str
    user_id: str
    app_name: str | None = None
    app_describe: str | None = None
    team_mode: str = "single_agent"
    language: str = "en"
    team_context: str | dict[str, Any] | None = None
    user_code: str | None = None
    sys_code: str | None = None
    icon: str | None = None
    is_collected: str = "false"
    published: str = "false"
    details: list[AppDetail] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    version: int = 0


# Fields a caller may set; the rest belong to the store.
_EDITABLE = {f.name for f in fields(App)} - {"app_code", "user_id", "created_at", "updated_at", "version"}
_JSON_FIELDS = ("team_context", "details")
_SCALARS = [f.name for f in fields(App) if f.name not in _JSON_FIELDS]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _to_item(app: App) -> dict[str, Any]:
    item = {name: getattr(app, name) for name in _SCALARS}
    item.update({"PK": f"USER#{app.user_id}", "SK": f"APP#{app.app_code}", "type": "app"})
    # JSON text keeps a string and a dict apart: '"abc"' against '{"uid": ...}'.
    if app.team_context is not None:
        item["team_context"] = _dumps(app.team_context)
    item["details"] = _dumps(app.details)
    return item


def _from_item(item: dict[str, Any]) -> App:
    app = App(**{name: item[name] for name in _SCALARS if name in item})
    if item.get("team_context") is not None:
        app.team_context = json.loads(item["team_context"])
    app.details = json.loads(item.get("details") or "[]")
    return app


class AppRepository:
    """A user's apps."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def create(self, *, user_id: str, values: dict[str, Any], app_code: str | None = None) -> App:
        """Create an app. A client-chosen `app_code` must not be one of the user's apps already."""
        unknown = set(values) - _EDITABLE
        if unknown:
            raise ValueError(f"not app fields: {sorted(unknown)}")
        app = App(app_code=app_code or new_id(), user_id=user_id, **values)
        app.created_at = app.updated_at = now_iso()
        app.version = 1
        try:
            self.table.put(_to_item(app), condition="attribute_not_exists(PK)")
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise DuplicateError(f"App {app.app_code} already exists") from exc
            raise
        return app

    def get(self, *, user_id: str, app_code: str) -> App:
        """One of the user's apps; another user's app is NotFoundError."""
        item = self.table.get(f"USER#{user_id}", f"APP#{app_code}")
        if item is None:
            raise NotFoundError(f"App {app_code} not found")
        return _from_item(item)

    def find(self, *, user_id: str, app_code: str) -> App | None:
        """Like `get`, but None when the user has no such app."""
        item = self.table.get(f"USER#{user_id}", f"APP#{app_code}")
        return _from_item(item) if item else None

    def list_for(self, user_id: str) -> list[App]:
        """Every app of the user, in app_code order."""
        return [_from_item(i) for i in self.table.query_prefix(f"USER#{user_id}", "APP#")]

    def update(
        self, *, user_id: str, app_code: str, changes: dict[str, Any] | Callable[[App], None],
        expected_version: int | None = None,
    ) -> App:
        """Apply `changes` (field values, or a function editing the App) with optimistic locking.

        Without `expected_version`, a lost race re-reads and re-applies the changes (a function may run
        more than once); with it, an app that moved on raises ConflictError.
        """
        if isinstance(changes, dict):
            unknown = set(changes) - _EDITABLE
            if unknown:
                raise ValueError(f"not app fields: {sorted(unknown)}")
        for _ in range(_RETRIES):
            item = self.table.get(f"USER#{user_id}", f"APP#{app_code}")
            if item is None:
                raise NotFoundError(f"App {app_code} not found")
            current = _from_item(item)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(
                    f"App {app_code} was changed by someone else (version {current.version}, "
                    f"expected {expected_version})"
                )
            app = _from_item(item)
            if callable(changes):
                changes(app)
            else:
                for name, value in changes.items():
                    setattr(app, name, value)
            app.app_code, app.user_id, app.created_at = current.app_code, current.user_id, current.created_at
            app.updated_at = now_iso()
            app.version = current.version + 1
            try:
                self.table.transact([{"Put": {"Item": _to_item(app), "ConditionExpression": "version = :v",
                                              "ExpressionAttributeValues": {":v": current.version}}}])
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                if expected_version is not None:
                    raise ConflictError(f"App {app_code} was changed by someone else") from exc
                continue  # lost the race on `version` (or the app was deleted): read again
            return app
        raise ConflictError(f"App {app_code} is being changed by others; try again")

    def delete(self, *, user_id: str, app_code: str) -> App:
        """Delete one of the user's apps and return it as it was."""
        app = self.get(user_id=user_id, app_code=app_code)
        self.table.delete(f"USER#{user_id}", f"APP#{app_code}")
        return app
