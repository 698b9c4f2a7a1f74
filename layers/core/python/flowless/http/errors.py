"""The only place that knows status codes: FlowlessError classes -> HTTP status and error bodies.

Langflow's body is {"detail": "..."}. A class is looked up along its MRO, so a new subclass inherits its
parent's status until it gets an entry of its own; a test fails if a class has no entry on its path.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from flowless import errors

__all__ = ["STATUS_BY_ERROR", "install_error_handlers", "status_for"]

logger = logging.getLogger("flowless")

STATUS_BY_ERROR: dict[type[errors.FlowlessError], int] = {
    errors.FlowlessError: 400,
    errors.NotFoundError: 404,
    errors.ApiKeyNotFoundError: 400,
    errors.ConflictError: 409,
    errors.DuplicateError: 400,
    errors.InvalidInputError: 400,
    errors.InvalidFlowError: 422,
    errors.AuthenticationError: 403,
    errors.MissingApiKeyError: 403,
    errors.InvalidApiKeyError: 403,
    errors.PermissionDeniedError: 403,
    errors.PayloadTooLargeError: 413,
    errors.FlowRunError: 400,
    errors.UpstreamError: 502,
}


def status_for(exc: errors.FlowlessError) -> int:
    """The status of an error: the entry of the nearest class on its MRO."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500  # pragma: no cover - FlowlessError itself has an entry


def _request_id(request: Request) -> str:
    context = request.scope.get("aws.context")
    return str(getattr(context, "aws_request_id", "") or request.headers.get("x-amzn-requestid", ""))


def install_error_handlers(app: FastAPI) -> None:
    """Answer FlowlessError with its status and {"detail"}; anything unexpected with a bare 500."""

    async def flowless_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.FlowlessError)
        return JSONResponse({"detail": exc.message}, status_code=status_for(exc))

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Internals stay in the log; the caller gets the request id to quote.
        logger.exception("unhandled error", extra={"request_id": _request_id(request)})
        body: dict[str, Any] = {"detail": "Internal server error", "request_id": _request_id(request)}
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(errors.FlowlessError, flowless_error)
    app.add_exception_handler(Exception, unexpected_error)
