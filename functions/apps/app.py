"""DB-GPT's App API: /api/v2/serve/apps, answered in DB-GPT's Result envelope.

DB-GPT leaves this API open; here every call needs an API key and sees only the caller's apps.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from mangum import Mangum

from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router
from flowless.wire.dbgpt_apps import AppCreate, AppUpdate

router = Router(prefix="/api/v2/serve/apps", tags=["Apps"])


@router.get("")
def list_apps(
    caller: CallerDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    is_collected: str | None = None,
    user_name: str | None = None,
    sys_code: str | None = None,
) -> dict[str, Any]:
    """List the caller's apps, newest change first."""
    from flowless.dbgpt import apps
    from flowless.wire.dbgpt import result
    from flowless.wire.dbgpt_apps import app_page

    # user_name and sys_code are accepted for DB-GPT's clients; the caller's key already picks the owner.
    found, total = apps.list_apps(caller.user_id, page=page, page_size=page_size, is_collected=is_collected)
    return result(app_page(found, total_count=total, page=page, page_size=page_size,
                           owner_name=caller.username))


@router.get("/{app_id}")
def get_app(caller: CallerDep, app_id: str) -> dict[str, Any]:
    """Read one app; null when the caller has no such app."""
    from flowless.dbgpt import apps
    from flowless.wire.dbgpt import result
    from flowless.wire.dbgpt_apps import app_data

    found = apps.find_app(caller.user_id, app_id)
    return result(app_data(found, owner_name=caller.username) if found else None)


@router.post("")
def new_app(caller: CallerDep, body: AppCreate) -> dict[str, Any]:
    """Create an app bound to one of the caller's flows, or to a model and prompt."""
    from flowless.dbgpt import apps
    from flowless.wire.dbgpt import result
    from flowless.wire.dbgpt_apps import app_data

    return result(app_data(apps.create_app(caller, body), owner_name=caller.username))


@router.put("/{app_id}")
def update_app(caller: CallerDep, app_id: str, body: AppUpdate) -> dict[str, Any]:
    """Replace an app."""
    from flowless.dbgpt import apps
    from flowless.wire.dbgpt import result
    from flowless.wire.dbgpt_apps import app_data

    return result(app_data(apps.update_app(caller, app_id, body), owner_name=caller.username))


@router.delete("/{app_id}")
def delete_app(
    caller: CallerDep, app_id: str, user_code: str | None = None, sys_code: str | None = None
) -> dict[str, Any]:
    """Delete an app."""
    from flowless.dbgpt import apps
    from flowless.wire.dbgpt import result

    return result(apps.delete_app(caller.user_id, app_id))


app = create_app(title="apps", routers=[router])
handler = Mangum(app, lifespan="off")
