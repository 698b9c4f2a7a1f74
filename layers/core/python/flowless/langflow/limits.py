"""Langflow's upload size limit (LANGFLOW_MAX_FILE_SIZE_UPLOAD, here FLOWLESS_MAX_FILE_SIZE_UPLOAD) and its message."""

from __future__ import annotations

from flowless.errors import PayloadTooLargeError

__all__ = ["check_upload_size", "max_upload_bytes", "size_limit_message"]

_MB = 1024 * 1024


def size_limit_message(*, limit_mb: int, got_bytes: int) -> str:
    """Langflow's words, to the digit: it rounds the size to three decimals ("got 1.001MB")."""
    return f"Content size limit exceeded. Maximum allowed is {limit_mb}MB and got {round(got_bytes / _MB, 3)}MB."


def max_upload_bytes() -> int:
    """The configured limit in bytes."""
    from flowless.settings import get_settings

    return get_settings().max_file_size_upload * _MB


def check_upload_size(size: int) -> None:
    """PayloadTooLargeError when a file is over the limit (bodies sent without a Content-Length get here)."""
    from flowless.settings import get_settings

    limit_mb = get_settings().max_file_size_upload
    if size > limit_mb * _MB:
        raise PayloadTooLargeError(size_limit_message(limit_mb=limit_mb, got_bytes=size))
