"""A router whose every route answers with and without the trailing slash, without a redirect.

Langflow declares some routes with a slash and some without, and FastAPI redirects the other form
with a 307; API Gateway clients handle redirects badly, so both forms are served directly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

__all__ = ["Router"]


class Router(APIRouter):
    """APIRouter that registers each path twice: as written (in the schema) and its slash twin."""

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        twin = path[:-1] if path.endswith("/") else f"{path}/"
        if twin or self.prefix:
            super().add_api_route(twin, endpoint, **{**kwargs, "include_in_schema": False})
