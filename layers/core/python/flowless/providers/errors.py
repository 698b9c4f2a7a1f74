"""What a model provider raises: bad configuration before any call, or a failed call."""

from __future__ import annotations

__all__ = ["ProviderConfigError", "ProviderError"]


class ProviderConfigError(ValueError):
    """The provider cannot be used as configured (e.g. no API key); no request was made."""


class ProviderError(Exception):
    """A model call failed: an HTTP error, a connection failure, or an error inside a stream.

    Carries the provider's own message so a flow's author sees why, and never the credentials.
    `status_code` is None when no response arrived. `retryable` and `retry_after` tell a retry loop
    whether and when trying again may help.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        outcome = f"returned HTTP {status_code}" if status_code is not None else "failed"
        super().__init__(f"{provider} {outcome}: {message}")
        self.provider = provider
        self.message = message
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after = retry_after
