"""Health, version and configuration: /health, /health_check, /api/v1/version, /api/v1/config."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from mangum import Mangum

from flowless.http.app import VERSION, create_app
from flowless.http.routing import Router

router = Router(tags=["Meta"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the function answers."""
    return {"status": "ok"}


@router.get("/health_check", response_model=None)
def health_check() -> Any:
    """Readiness: the function can reach its table."""
    from flowless.store._dynamo import Table

    try:
        Table().get("HEALTH", "CHECK", consistent=False)
    except Exception:
        failed = {"status": "nok", "chat": "ok", "db": "error check the server logs"}
        return JSONResponse({"detail": failed}, status_code=500)
    return {"status": "ok", "chat": "ok", "db": "ok"}


@router.get("/api/v1/version")
def version() -> dict[str, str]:
    """The Langflow API version this server speaks."""
    return {"version": VERSION, "main_version": VERSION, "package": "Langflow"}


@router.get("/api/v1/config")
def config() -> dict[str, Any]:
    """The configuration Langflow's clients read at start."""
    from flowless.settings import get_settings

    settings = get_settings()
    return {
        "feature_flags": {"mvp_components": False},
        "serialization_max_items_length": 1000,
        "serialization_max_text_length": 6000,
        "frontend_timeout": 0,
        "auto_saving": True,
        "auto_saving_interval": 1000,
        "health_check_max_retries": 5,
        "max_file_size_upload": settings.max_file_size_upload,
        "webhook_polling_interval": 5000,
        "public_flow_cleanup_interval": 3600,
        "public_flow_expiration": 86400,
        "event_delivery": "streaming",
        "webhook_auth_enable": settings.webhook_auth_enable,
        "voice_mode_available": False,
        "default_folder_name": settings.default_folder_name,
        "hide_getting_started_progress": False,
    }


app = create_app(title="meta", routers=[router])
handler = Mangum(app, lifespan="off")
