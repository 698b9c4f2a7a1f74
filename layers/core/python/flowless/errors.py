"""The one exception hierarchy of Flowless. The layer raises these and knows no status codes.

    FlowlessError
     ├── NotFoundError                  a record does not exist, or belongs to someone else
     │    └── ApiKeyNotFoundError       (Langflow answers this one with 400)
     ├── ConflictError                  a concurrent write won; the caller may retry
     ├── DuplicateError                 a name that must be unique is taken
     ├── InvalidInputError              the request is well-formed but its content is wrong
     │    ├── InvalidFlowError          a flow's graph cannot be used
     │    ├── UnknownModelError         a request names a model that is not configured
     │    └── InvalidParameterError     a request parameter is out of range
     ├── AuthenticationError            who is calling cannot be established
     │    ├── MissingApiKeyError
     │    └── InvalidApiKeyError
     ├── PermissionDeniedError          the caller is known but may not do this
     └── PayloadTooLargeError           a body or file over the configured limit

`flowless.http.errors` maps each class to a status code and to both products' error bodies.
"""

from __future__ import annotations

__all__ = [
    "ApiKeyNotFoundError",
    "AuthenticationError",
    "ConflictError",
    "DuplicateError",
    "FlowRunError",
    "FlowlessError",
    "InvalidApiKeyError",
    "InvalidFlowError",
    "InvalidInputError",
    "InvalidParameterError",
    "MissingApiKeyError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "UnknownModelError",
    "UpstreamError",
]


class FlowlessError(Exception):
    """Base of every error Flowless raises on purpose; its message is safe to show the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(FlowlessError):
    """A record does not exist, or is not the caller's."""


class ApiKeyNotFoundError(NotFoundError):
    """The API key to delete is not one of the caller's."""


class ConflictError(FlowlessError):
    """A concurrent write changed the record first."""


class DuplicateError(FlowlessError):
    """A name that must be unique is already taken."""


class InvalidInputError(FlowlessError):
    """The request's content is not acceptable."""


class InvalidFlowError(InvalidInputError):
    """A flow's graph is malformed or uses something unsupported."""


class AuthenticationError(FlowlessError):
    """The caller could not be identified."""


class MissingApiKeyError(AuthenticationError):
    """No API key was sent where one is required."""


class InvalidApiKeyError(AuthenticationError):
    """The API key sent is unknown or inactive."""


class PermissionDeniedError(FlowlessError):
    """The caller is known but not allowed to do this."""


class PayloadTooLargeError(FlowlessError):
    """A request body or file is over the configured limit."""


class UnknownModelError(InvalidInputError):
    """A request names a model that is not among the configured ones."""


class InvalidParameterError(InvalidInputError):
    """A request parameter is out of its range (a negative max_tokens, a temperature over 2, ...)."""


class FlowRunError(InvalidInputError):
    """A component refused its configuration or input while a flow ran (a missing key, a bad URL, ...)."""


class UpstreamError(FlowlessError):
    """A model provider or remote service a flow called failed or could not be reached."""
