"""App operations behind DB-GPT's /api/v2/serve/apps, and the binding the chat door runs for chat_app.

An app is bound to one of two things, checked on every write so a stored app always resolves:
- a flow: `team_context` carries the flow's uid (an object with "uid", or, for team_mode awel_layout, the uid
  itself). The flow must be the caller's; the stored team_context becomes {"uid", "dag_id", "name", "label",
  "flow_category"} from that flow.
- a model and a prompt, otherwise: details[0].llm_strategy_value names the model(s), comma-separated or as a
  JSON list string, and details[0].prompt_template is the system prompt. With no model named, the chat uses
  the model its request names, as DB-GPT's "default" strategy does.
DB-GPT runs agent teams for apps; Flowless runs the binding instead. This module speaks neither HTTP nor
DynamoDB: it takes wire models and returns stored apps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flowless.clock import new_id, now_iso
from flowless.errors import InvalidInputError, NotFoundError
from flowless.store.apps import App, AppDetail, AppRepository, AppResource
from flowless.wire.dbgpt_apps import AppCreate, AppDetailIn, AppUpdate

if TYPE_CHECKING:
    from flowless.http.auth import Caller
    from flowless.store.flows import FlowRepository

__all__ = [
    "AppBinding",
    "create_app",
    "delete_app",
    "find_app",
    "list_apps",
    "model_names",
    "resolve_app",
    "update_app",
]

# A PUT replaces these, as DB-GPT's edit does; the bookkeeping fields below keep their value unless sent.
_REPLACED = ("app_name", "app_describe", "icon")
_KEPT_UNLESS_SENT = ("user_code", "sys_code", "is_collected", "published")


@dataclass(frozen=True)
class AppBinding:
    """What a chat_app request runs: a flow (`flow_id`), or models with a system prompt."""

    kind: Literal["flow", "model"]
    flow_id: str | None
    model_names: list[str]
    system_prompt: str
    app: App


def model_names(value: str | None) -> list[str]:
    """The models a detail's llm_strategy_value names: "a,b" or '["a", "b"]', without blanks or repeats."""
    text = (value or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise InvalidInputError("details[0].llm_strategy_value is not a valid JSON list") from exc
        if not isinstance(parsed, list) or not all(isinstance(n, str) for n in parsed):
            raise InvalidInputError("details[0].llm_strategy_value must list model names as strings")
        names = parsed
    else:
        names = text.split(",")
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _context_object(team_context: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """A team_context sent as a JSON object in a string (the web UI does) becomes that object."""
    if isinstance(team_context, str) and team_context.strip().startswith("{"):
        try:
            parsed = json.loads(team_context)
        except ValueError as exc:
            raise InvalidInputError("team_context is not valid JSON") from exc
        if isinstance(parsed, dict):
            return parsed
    return team_context


def _bound_flow_uid(team_mode: str | None, team_context: str | dict[str, Any] | None) -> str | None:
    """The uid of the flow an app is bound to, or None for a model-bound app."""
    if isinstance(team_context, dict):
        uid = team_context.get("uid")
        if uid:
            if not isinstance(uid, str):
                raise InvalidInputError("team_context.uid must be a string")
            return uid
    elif isinstance(team_context, str) and team_context.strip() and team_mode == "awel_layout":
        return team_context.strip()
    if team_mode == "awel_layout":
        raise InvalidInputError("An awel_layout app needs team_context naming one of your flows by its uid")
    return None


def _flow_context(flows: FlowRepository, user_id: str, uid: str) -> dict[str, Any]:
    """The stored binding to one of the user's flows."""
    try:
        flow = flows.get(user_id=user_id, flow_id=uid)
    except NotFoundError as exc:
        raise NotFoundError(f"Flow {uid} not found") from exc
    extra = flow.dbgpt or {}
    return {
        "uid": flow.id,
        "dag_id": extra.get("dag_id") or f"flow_dag_{flow.name.replace(' ', '_')}_{flow.id}",
        "name": flow.name,
        "label": extra.get("label") or flow.name,
        # Flowless runs any bound flow as a chat, so a flow without DB-GPT's own category is a chat flow.
        "flow_category": extra.get("flow_category") or "chat_flow",
    }


def _details(details: list[AppDetailIn], *, app_code: str, app_name: str | None) -> list[AppDetail]:
    now = now_iso()
    return [
        AppDetail(
            app_code=app_code,
            app_name=app_name,
            agent_name=d.agent_name,
            node_id=d.node_id,
            resources=[AppResource(type=r.type, name=r.name, value=r.value, is_dynamic=r.is_dynamic)
                       for r in d.resources or []],
            prompt_template=d.prompt_template,
            llm_strategy=d.llm_strategy,
            llm_strategy_value=d.llm_strategy_value,
            created_at=now,
            updated_at=now,
        )
        for d in details
    ]


def _apply(app: App, body: AppCreate, *, flows: FlowRepository) -> None:
    """Write a GptsApp body onto an app and bind it, raising when the binding is wrong."""
    for name in _REPLACED:
        setattr(app, name, getattr(body, name))
    app.language = body.language or "en"
    for name in _KEPT_UNLESS_SENT:
        if getattr(body, name) is not None:
            setattr(app, name, getattr(body, name))
    app.details = _details(body.details or [], app_code=app.app_code, app_name=app.app_name)
    context = _context_object(body.team_context)
    uid = _bound_flow_uid(body.team_mode, context)
    if uid is not None:
        app.team_context = _flow_context(flows, app.user_id, uid)
        app.team_mode = body.team_mode or "awel_layout"
    else:
        app.team_context = context
        app.team_mode = body.team_mode or "single_agent"
        if app.details:
            model_names(app.details[0]["llm_strategy_value"])  # refuse a list that cannot be read


def _values(app: App) -> dict[str, Any]:
    return {name: getattr(app, name) for name in (
        *_REPLACED, *_KEPT_UNLESS_SENT, "language", "team_mode", "team_context", "details")}


def create_app(caller: Caller, body: AppCreate) -> App:
    """Create one of the caller's apps, bound to one of their flows or to a model and prompt.

    Example:
        app = create_app(caller, AppCreate(app_name="helper", details=[AppDetailIn(
            llm_strategy_value="gpt-4o", prompt_template="You are terse.")]))
    """
    from flowless.store.flows import FlowRepository

    # A client may choose the code (it must be free); otherwise it is a new uuid4.
    draft = App(app_code=body.app_code or new_id(), user_id=caller.user_id, user_code=caller.username)
    _apply(draft, body, flows=FlowRepository())
    return AppRepository().create(user_id=caller.user_id, values=_values(draft), app_code=draft.app_code)


def find_app(user_id: str, app_code: str) -> App | None:
    """One of the user's apps, or None (DB-GPT answers a missing app with null)."""
    return AppRepository().find(user_id=user_id, app_code=app_code)


def list_apps(
    user_id: str, *, page: int, page_size: int, is_collected: str | None = None
) -> tuple[list[App], int]:
    """One page of the user's apps, newest change first, and how many there are in all."""
    apps = AppRepository().list_for(user_id)
    if is_collected in ("true", "false"):
        apps = [a for a in apps if a.is_collected == is_collected]
    apps.sort(key=lambda a: (a.updated_at, a.app_code), reverse=True)
    start = (page - 1) * page_size
    return apps[start:start + page_size], len(apps)


def update_app(caller: Caller, app_code: str, body: AppUpdate) -> App:
    """Replace an app with the PUT body; the app_code comes from the path and the binding is checked again."""
    from flowless.store.flows import FlowRepository

    if body.app_code and body.app_code != app_code:
        raise InvalidInputError(f"app_code {body.app_code} does not match the app {app_code} in the path")
    flows = FlowRepository()

    def change(app: App) -> None:
        _apply(app, body, flows=flows)

    return AppRepository().update(user_id=caller.user_id, app_code=app_code, changes=change)


def delete_app(user_id: str, app_code: str) -> list[Any]:
    """Delete one of the user's apps; DB-GPT answers with an empty list."""
    AppRepository().delete(user_id=user_id, app_code=app_code)
    return []


def resolve_app(user_id: str, app_code: str) -> AppBinding:
    """What chat_app runs for one of the user's apps; NotFoundError when the user has no such app.

    Example:
        binding = resolve_app(caller.user_id, request.chat_param)
        if binding.kind == "flow": ...  # run binding.flow_id
        else: ...                       # chat with binding.model_names[0], binding.system_prompt first
    """
    app = AppRepository().get(user_id=user_id, app_code=app_code)
    uid = _bound_flow_uid(app.team_mode, app.team_context)
    if uid is not None:
        return AppBinding(kind="flow", flow_id=uid, model_names=[], system_prompt="", app=app)
    first = app.details[0] if app.details else None
    return AppBinding(
        kind="model",
        flow_id=None,
        model_names=model_names(first["llm_strategy_value"]) if first else [],
        system_prompt=(first["prompt_template"] or "") if first else "",
        app=app,
    )
