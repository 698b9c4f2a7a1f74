"""The engine's view of the outside world for a stored flow: variables, chat history, files, models."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flowless.engine.context import Services
from flowless.engine.types import Message

__all__ = ["StoredHistory", "VariableResolver", "run_services"]

logger = logging.getLogger("flowless")


class VariableResolver:
    """A `load_from_db` variable's value: the request's X-LANGFLOW-GLOBAL-VAR-* headers, then the environment,
    then SSM Parameter Store and Secrets Manager (through Powertools, cached) when configured."""

    def __init__(self, request_variables: Mapping[str, str] | None = None, *, parameter_path: str = "",
                 secret_prefix: str = "") -> None:
        self.request_variables = dict(request_variables or {})
        self.parameter_path = parameter_path.rstrip("/")
        self.secret_prefix = secret_prefix

    def __call__(self, name: str) -> str | None:
        if name in self.request_variables:
            return self.request_variables[name]
        if os.environ.get(name):
            return os.environ[name]
        return self._from_parameters(name)

    def _from_parameters(self, name: str) -> str | None:
        if not (self.parameter_path or self.secret_prefix):
            return None
        from aws_lambda_powertools.utilities import parameters

        if self.parameter_path:
            try:
                return str(parameters.get_parameter(f"{self.parameter_path}/{name}", decrypt=True, max_age=300))
            except parameters.exceptions.GetParameterError:
                pass
        if self.secret_prefix:
            try:
                return str(parameters.get_secret(f"{self.secret_prefix}{name}", max_age=300))
            except parameters.exceptions.GetParameterError:
                pass
        # The name only: a variable's value never reaches the log.
        logger.info("variable not found", extra={"variable": name})
        return None


class StoredHistory:
    """Message History's source: the messages stored for this flow, one session at a time."""

    def __init__(self, *, user_id: str, flow_id: str) -> None:
        self.user_id = user_id
        self.flow_id = flow_id

    def history(self, *, session_id: str, limit: int = 10_000) -> list[Message]:
        from flowless.store.messages import MessageRepository

        stored = MessageRepository().history(user_id=self.user_id, flow_id=self.flow_id, session_id=session_id,
                                             limit=limit)
        return [_message(s.fields) for s in stored]


def _message(fields: Mapping[str, Any]) -> Message:
    known = {k: fields[k] for k in ("text", "sender", "sender_name", "session_id", "flow_id", "files", "timestamp",
                                    "id", "error", "edit", "properties", "category", "content_blocks", "duration")
             if k in fields and fields[k] is not None}
    return Message(**known)


def run_services(*, user_id: str, flow_id: str, variables: Mapping[str, str] | None = None) -> Services:
    """Services for one run of a stored flow, scoped to its owner."""
    from flowless.settings import get_settings
    from flowless.store.files import UserFiles

    settings = get_settings()
    return Services(
        history=StoredHistory(user_id=user_id, flow_id=flow_id),
        variables=VariableResolver(variables, parameter_path=settings.variables_parameter_path,
                                   secret_prefix=settings.variables_secret_prefix),
        files=UserFiles(user_id),
        allow_private_network=settings.allow_private_network,
    )
