"""The only place that knows status codes: FlowlessError classes -> HTTP status and error bodies.

A class is looked up along its MRO, so a new subclass inherits its parent's status until it gets an entry of
its own; a test fails if a class has no entry on its path. Each product's routes answer in that product's
error shape, chosen by path (`error_shape`):
- Langflow: {"detail": "..."} (validation: FastAPI's 422 list);
- DB-GPT (/api/v2/..., and /api/v1/serve/..., its flow API's second mount): the Result envelope
  {"success": false, "err_code", "err_msg", "data": null}, with DB-GPT's codes: "E0001" for a body that fails
  validation (400), "E0003" for other bad requests (400), the status as a string otherwise ("404", "401", ...);
- DB-GPT's OpenAI-compatible model API (/api/v1/models, /api/v1/chat/completions): {"object": "error",
  "message", "code"} with its numeric codes (40001 validation, 40301 unknown model, 40302 bad parameter).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from flowless import errors

__all__ = ["STATUS_BY_ERROR", "dbgpt_failure", "error_shape", "install_error_handlers", "status_for"]

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
    errors.UnknownModelError: 400,
    errors.UpstreamError: 502,
}


def status_for(exc: errors.FlowlessError) -> int:
    """The status of an error: the entry of the nearest class on its MRO."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500  # pragma: no cover - FlowlessError itself has an entry


_MODEL_API_PATHS = ("/api/v1/models", "/api/v1/chat/completions")


def error_shape(path: str) -> str:
    """Which product's error body a path answers with: "dbgpt", "model_api" or "langflow"."""
    if path.startswith(("/api/v2/", "/api/v1/serve/")):
        return "dbgpt"
    if path.rstrip("/") in _MODEL_API_PATHS:
        return "model_api"
    return "langflow"


def dbgpt_failure(status: int, message: str, *, err_code: str | None = None) -> JSONResponse:
    """DB-GPT's failed Result: HTTP `status`, err_code "E0003" for a plain 400, else the status itself."""
    code = err_code or ("E0003" if status == 400 else str(status))
    return JSONResponse({"success": False, "err_code": code, "err_msg": message, "data": None}, status_code=status)


def model_api_failure(status: int, message: str, code: int) -> JSONResponse:
    return JSONResponse({"object": "error", "message": message, "code": code}, status_code=status)


def _invalid_key_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def _flowless_error_response(shape: str, exc: errors.FlowlessError) -> JSONResponse:
    status = status_for(exc)
    if shape == "dbgpt":
        if isinstance(exc, errors.AuthenticationError):
            # DB-GPT writes the Python form of its 401 detail into err_msg.
            return dbgpt_failure(401, str(_invalid_key_body(exc.message)))
        return dbgpt_failure(status, exc.message)
    if shape == "model_api":
        if isinstance(exc, errors.AuthenticationError):
            return JSONResponse({"detail": _invalid_key_body(exc.message)}, status_code=401)
        if isinstance(exc, errors.UnknownModelError):
            code = 40301
        elif isinstance(exc, errors.InvalidParameterError):
            code = 40302
        else:
            code = 40001 if status < 500 else 50001
        return model_api_failure(status, exc.message, code)
    return JSONResponse({"detail": exc.message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    """DB-GPT's validation text: "<loc joined by .>:<msg>;" per error."""
    return "".join(f"{'.'.join(str(part) for part in e.get('loc', ()))}:{e.get('msg', '')};" for e in exc.errors())


def _request_id(request: Request) -> str:
    context = request.scope.get("aws.context")
    return str(getattr(context, "aws_request_id", "") or request.headers.get("x-amzn-requestid", ""))


def install_error_handlers(app: FastAPI) -> None:
    """Answer FlowlessError with its status in the route's product shape; anything unexpected with a 500."""
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler

    async def flowless_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.FlowlessError)
        return _flowless_error_response(error_shape(request.url.path), exc)

    async def validation_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        shape = error_shape(request.url.path)
        if shape == "dbgpt":
            return dbgpt_failure(400, _validation_message(exc), err_code="E0001")
        if shape == "model_api":
            return model_api_failure(400, _validation_message(exc), 40001)
        return await request_validation_exception_handler(request, exc)

    async def http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        shape = error_shape(request.url.path)
        if shape == "dbgpt":
            return dbgpt_failure(exc.status_code, str(exc.detail), err_code=str(exc.status_code))
        return await http_exception_handler(request, exc)

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Internals stay in the log; the caller gets the request id to quote.
        request_id = _request_id(request)
        logger.exception("unhandled error", extra={"request_id": request_id})
        if error_shape(request.url.path) == "dbgpt":
            return dbgpt_failure(500, f"Internal server error (request id {request_id})")
        body: dict[str, Any] = {"detail": "Internal server error", "request_id": request_id}
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(errors.FlowlessError, flowless_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
