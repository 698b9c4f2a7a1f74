"""Files a user stored, addressed the way Langflow flows name them: "<uuid>/<file name>".

The uuid is a flow id (Langflow's v1 files) or the user's id (v2); to the store it is just part of the
path. A path comes from a flow or a tweak, so it never becomes part of an S3 key: it is validated, then
hashed, and the object lives under the owner's prefix. Reads are scoped by the caller's user id, so a
path alone never reaches another user's file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flowless.errors import InvalidInputError, NotFoundError
from flowless.store._dynamo import error_code
from flowless.store.aws import BucketAccess

__all__ = ["UPLOADS_PREFIX", "FileRepository", "UserFiles", "file_name", "validate_path"]

# Presigned uploads land here first; an EventBridge rule on this prefix registers them.
UPLOADS_PREFIX = "uploads/"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Downloads are sent in pieces of this size, so a large file is never held whole in memory.
_CHUNK_BYTES = 1024 * 1024

# A uuid-like folder, then one file name: no further slashes, backslashes or NUL bytes.
_PATH = re.compile(r"[0-9a-fA-F-]{36}/[^/\\\x00]{1,255}")
# File systems cap a name at 255 bytes; the same cap keeps the name inside S3's 2 KB of metadata.
_MAX_NAME_BYTES = 255
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def validate_path(path: Any) -> str:
    """The path itself when it is a well-formed "<uuid>/<file name>", else InvalidInputError."""
    if not isinstance(path, str) or not _PATH.fullmatch(path) or ".." in path:
        raise InvalidInputError(f"Invalid file path: {str(path)[:300]!r}; expected '<id>/<file name>'")
    if len(file_name(path).encode()) > _MAX_NAME_BYTES:
        raise InvalidInputError(f"File name is longer than {_MAX_NAME_BYTES} bytes")
    return path


def file_name(path: str) -> str:
    """The file name part of a path ("<uuid>/notes.txt" -> "notes.txt")."""
    return path.rpartition("/")[2]


class FileRepository(BucketAccess):
    """Stored files, one S3 object each, under files/{user_id}/{sha256 of the path}."""

    @staticmethod
    def key(*, user_id: str, path: str) -> str:
        """The S3 key of a file: only the user id (ours, not the caller's text) and a hash."""
        if not user_id or "/" in user_id:
            raise ValueError("a file needs the owner's user id")
        digest = hashlib.sha256(validate_path(path).encode()).hexdigest()
        return f"files/{user_id}/{digest}"

    def put(self, *, user_id: str, path: str, content: bytes, content_type: str | None = None) -> None:
        """Store (or replace) the file at `path` for this user."""
        key = self.key(user_id=user_id, path=path)
        # S3 metadata must be ASCII, so the path is kept percent-encoded.
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=content, ContentType=content_type or "application/octet-stream",
            Metadata={"path": quote(path, safe="/")},
        )

    def _object(self, *, user_id: str, path: str) -> dict[str, Any]:
        """GetObject of the user's file at `path`; NotFoundError when there is none."""
        key = self.key(user_id=user_id, path=path)  # a malformed path is refused before any S3 call
        try:
            return dict(self.s3.get_object(Bucket=self.bucket, Key=key))
        except Exception as exc:
            if error_code(exc) in _MISSING_CODES:
                raise NotFoundError(f"File not found: {file_name(path)}") from exc
            raise

    def get(self, *, user_id: str, path: str) -> bytes:
        """The file's bytes; NotFoundError when this user has no file at `path`."""
        return bytes(self._object(user_id=user_id, path=path)["Body"].read())

    def exists(self, *, user_id: str, path: str) -> bool:
        key = self.key(user_id=user_id, path=path)
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in _MISSING_CODES:
                return False
            raise
        return True

    def open(self, *, user_id: str, path: str) -> tuple[Iterator[bytes], int, str]:
        """The file as (chunks, size, content type), read from S3 as it is sent rather than all at once."""
        answer = self._object(user_id=user_id, path=path)
        body = answer["Body"]
        return (body.iter_chunks(_CHUNK_BYTES), int(answer.get("ContentLength", 0)),
                answer.get("ContentType") or "application/octet-stream")

    @staticmethod
    def staging_key(*, user_id: str, file_id: str) -> str:
        """Where a presigned upload lands before it is registered: ids we made, nothing the caller wrote."""
        if not user_id or "/" in user_id or not _ID.fullmatch(file_id):
            raise ValueError("a staged upload needs the owner's id and a file id")
        return f"{UPLOADS_PREFIX}{user_id}/{file_id}"

    def presigned_post(self, *, user_id: str, file_id: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        """A browser-style POST form straight to S3; S3 itself refuses a body over `max_bytes`."""
        key = self.staging_key(user_id=user_id, file_id=file_id)
        answer: dict[str, Any] = self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Conditions=[["content-length-range", 0, max_bytes]],
            ExpiresIn=expires_in,
        )
        return answer

    def adopt_staged(self, *, user_id: str, file_id: str, path: str, content_type: str) -> int:
        """Move a landed upload to the file's own key; its size. NotFoundError if it is not (or no longer) there."""
        source = self.staging_key(user_id=user_id, file_id=file_id)
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=source)
        except Exception as exc:
            if error_code(exc) in _MISSING_CODES:
                raise NotFoundError("Upload not found") from exc
            raise
        # CopyObject handles objects up to 5 GB, the most one presigned POST can carry.
        self.s3.copy_object(
            Bucket=self.bucket, Key=self.key(user_id=user_id, path=path),
            CopySource={"Bucket": self.bucket, "Key": source}, MetadataDirective="REPLACE",
            ContentType=content_type, Metadata={"path": quote(path, safe="/")},
        )
        self.s3.delete_object(Bucket=self.bucket, Key=source)
        return int(head.get("ContentLength", 0))

    def delete(self, *, user_id: str, path: str) -> None:
        """Remove the file; removing a file that is not there is not an error (S3 deletes are idempotent)."""
        self.s3.delete_object(Bucket=self.bucket, Key=self.key(user_id=user_id, path=path))


class UserFiles:
    """One user's stored files as a run reads them: `read(path) -> (file name, bytes)`."""

    def __init__(self, user_id: str, repository: FileRepository | None = None) -> None:
        self.user_id = user_id
        self.repository = repository or FileRepository()

    def read(self, path: str) -> tuple[str, bytes]:
        """A file by its path (v1 "<flow_id>/<name>", v2 "<user_id>/<file_id><ext>") or by its bare v2 id."""
        if _ID.fullmatch(path.strip().lower()):
            from flowless.store.file_records import FileRecordRepository

            record = FileRecordRepository().get(user_id=self.user_id, file_id=path.strip().lower())
            return record.download_name, self.repository.get(user_id=self.user_id, path=record.path)
        return file_name(path), self.repository.get(user_id=self.user_id, path=path)
