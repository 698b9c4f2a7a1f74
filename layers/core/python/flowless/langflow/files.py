"""Langflow's file APIs over our store: v2 files (per user, by id) and v1 files (per flow, by stored name).

Names are whatever the client sent and stay metadata. What flows use is the `path`: for v2
"<user_id>/<file_id><ext>" (Langflow's documented shape, so a rename never moves a file), for v1
"<flow_id>/<timestamp>_<name>". Bytes live in S3 under a key derived from the owner and that path.
Knows nothing of HTTP: routes shape the replies.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flowless.clock import new_id
from flowless.errors import InvalidInputError, NotFoundError
from flowless.langflow.limits import check_upload_size, max_upload_bytes
from flowless.store.file_records import (
    FileRecord,
    FileRecordRepository,
    FlowFileRecord,
    PendingUpload,
    split_name,
)
from flowless.store.files import FileRepository

__all__ = [
    "delete_all_files", "delete_file", "delete_files", "delete_flow_file", "list_files", "list_flow_files",
    "open_file", "open_flow_file", "register_upload", "rename_file", "start_upload", "upload_file",
    "upload_flow_file", "zip_files",
]

# A name is kept as given, up to this many characters (a DynamoDB item holds 400 KB; no one needs more).
MAX_NAME_CHARS = 1024
# A v1 stored name is a single path segment of at most 255 bytes (it is addressed in URLs and by flows).
_V1_NAME_BYTES = 255
_UNSAFE_SEGMENT = re.compile(r"[/\\\x00]")
# A presigned upload form is good for this long.
UPLOAD_URL_SECONDS = 900


def _checked_name(name: str | None) -> str:
    if name is None or not name.strip():
        raise InvalidInputError("No file provided")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"File name is longer than {MAX_NAME_CHARS} characters")
    return name


# ---- v2 ----------------------------------------------------------------------------------------------

def _new_record(*, user_id: str, file_id: str, filename: str, size: int, content_type: str) -> FileRecord:
    """A new v2 file named by its root ("report" for "report.txt"); `add` makes the name unique."""
    root, extension = split_name(_checked_name(filename))
    return FileRecord(id=file_id, user_id=user_id, name=root, path=f"{user_id}/{file_id}{extension.lower()}",
                      size=size, content_type=content_type, extension=extension)


def upload_file(*, user_id: str, filename: str | None, content: bytes, content_type: str | None) -> FileRecord:
    """Store a v2 file: a new id, Langflow's unique name ("x", "x (1)", ...), bytes in S3, then its record."""
    check_upload_size(len(content))
    records = FileRecordRepository()
    record = _new_record(user_id=user_id, file_id=new_id(), filename=_checked_name(filename), size=len(content),
                         content_type=content_type or "application/octet-stream")
    FileRepository().put(user_id=user_id, path=record.path, content=content, content_type=record.content_type)
    return records.add(record)


def list_files(user_id: str) -> list[FileRecord]:
    return FileRecordRepository().list(user_id=user_id)


def open_file(user_id: str, file_id: str) -> tuple[FileRecord, Iterator[bytes], int]:
    """The record and the bytes (streamed from S3) of one of the user's files."""
    record = FileRecordRepository().get(user_id=user_id, file_id=file_id)
    chunks, size, _ = FileRepository().open(user_id=user_id, path=record.path)
    return record, chunks, size


def rename_file(user_id: str, file_id: str, name: str) -> FileRecord:
    return FileRecordRepository().rename(user_id=user_id, file_id=file_id, name=_checked_name(name))


def delete_file(user_id: str, file_id: str) -> FileRecord:
    records = FileRecordRepository()
    record = records.get(user_id=user_id, file_id=file_id)
    FileRepository().delete(user_id=user_id, path=record.path)
    records.remove(user_id=user_id, file_id=file_id)
    return record


def delete_all_files(user_id: str) -> int:
    found = list_files(user_id)
    for record in found:
        delete_file(user_id, record.id)
    return len(found)


def _records_by_ids(user_id: str, file_ids: list[str]) -> list[FileRecord]:
    records = FileRecordRepository()
    found: list[FileRecord] = []
    for file_id in dict.fromkeys(file_ids):
        try:
            found.append(records.get(user_id=user_id, file_id=file_id))
        except NotFoundError:
            continue
    if not found:
        raise NotFoundError("No files found")
    return found


def delete_files(user_id: str, file_ids: list[str]) -> int:
    """Delete those of the ids that are the user's files; NotFoundError when none is."""
    found = _records_by_ids(user_id, file_ids)
    for record in found:
        delete_file(user_id, record.id)
    return len(found)


def zip_files(user_id: str, file_ids: list[str]) -> bytes:
    """A zip of the user's files among `file_ids`, entries named "<name><ext>" (made unique in the archive)."""
    found = _records_by_ids(user_id, file_ids)
    repository = FileRepository()
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in found:
            # A zip entry name is a path to the unzipping tool: strip what would leave the folder.
            entry = record.download_name.replace("\\", "_").replace("/", "_").lstrip(".") or record.id
            if entry in used:
                entry = f"{record.id}_{entry}"
            used.add(entry)
            archive.writestr(entry, repository.get(user_id=user_id, path=record.path))
    return buffer.getvalue()


# ---- presigned uploads (files too large for a buffered API Gateway request) --------------------------

def start_upload(*, user_id: str, name: str, content_type: str | None) -> dict[str, Any]:
    """A presigned POST to S3 for a new file id; the file is registered when its object lands."""
    file_id = new_id()
    upload = PendingUpload(id=file_id, user_id=user_id, name=_checked_name(name),
                           content_type=content_type or "application/octet-stream")
    FileRecordRepository().add_pending(upload)
    form = FileRepository().presigned_post(user_id=user_id, file_id=file_id, max_bytes=max_upload_bytes(),
                                           expires_in=UPLOAD_URL_SECONDS)
    return {"id": file_id, "name": upload.name, "url": form["url"], "fields": form["fields"],
            "expires_in": UPLOAD_URL_SECONDS, "max_size": max_upload_bytes()}


def register_upload(*, user_id: str, file_id: str) -> FileRecord | None:
    """Turn a landed presigned upload into a file; None when there is nothing (left) to register.

    Safe to run twice (EventBridge delivers at least once): a registered id is left as it is.
    """
    records = FileRecordRepository()
    if records.exists(user_id=user_id, file_id=file_id):
        return None
    upload = records.pending(user_id=user_id, file_id=file_id)
    if upload is None:
        return None
    record = _new_record(user_id=user_id, file_id=file_id, filename=upload.name, size=0,
                         content_type=upload.content_type)
    try:
        record.size = FileRepository().adopt_staged(user_id=user_id, file_id=file_id, path=record.path,
                                                    content_type=record.content_type)
    except NotFoundError:
        return None
    record = records.add(record)
    records.remove_pending(user_id=user_id, file_id=file_id)
    return record


# ---- v1 ----------------------------------------------------------------------------------------------

def _stored_name(filename: str | None, content: bytes) -> str:
    """"<YYYY-MM-DD_HH-MM-SS>_<name>" as Langflow names it, made a single safe path segment."""
    name = filename if filename and filename.strip() else hashlib.sha256(content).hexdigest()
    # The name becomes part of a URL path and of the file_path flows send back, so it must stay one segment.
    name = _UNSAFE_SEGMENT.sub("_", name).replace("..", "__")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
    stored = f"{stamp}_{name}"
    while len(stored.encode()) > _V1_NAME_BYTES:
        stored = stored[:-1]
    return stored


def _owned_flow(records: FileRecordRepository, user_id: str, flow_id: str) -> None:
    if not records.flow_exists(user_id=user_id, flow_id=flow_id):
        raise NotFoundError("Flow not found")


def upload_flow_file(*, user_id: str, flow_id: str, filename: str | None, content: bytes,
                     content_type: str | None) -> FlowFileRecord:
    """Store a v1 file in one of the user's flows."""
    check_upload_size(len(content))
    records = FileRecordRepository()
    _owned_flow(records, user_id, flow_id)
    record = FlowFileRecord(user_id=user_id, flow_id=flow_id, stored_name=_stored_name(filename, content),
                            filename=filename or "", size=len(content),
                            content_type=content_type or "application/octet-stream")
    FileRepository().put(user_id=user_id, path=record.path, content=content, content_type=record.content_type)
    return records.add_flow_file(record)


def list_flow_files(user_id: str, flow_id: str) -> list[str]:
    records = FileRecordRepository()
    _owned_flow(records, user_id, flow_id)
    return [r.stored_name for r in records.list_flow_files(user_id=user_id, flow_id=flow_id)]


def open_flow_file(user_id: str, flow_id: str, stored_name: str) -> tuple[FlowFileRecord, Iterator[bytes], int]:
    record = FileRecordRepository().get_flow_file(user_id=user_id, flow_id=flow_id, stored_name=stored_name)
    chunks, size, _ = FileRepository().open(user_id=user_id, path=record.path)
    return record, chunks, size


def delete_flow_file(user_id: str, flow_id: str, stored_name: str) -> None:
    records = FileRecordRepository()
    record = records.get_flow_file(user_id=user_id, flow_id=flow_id, stored_name=stored_name)
    FileRepository().delete(user_id=user_id, path=record.path)
    records.remove_flow_file(user_id=user_id, flow_id=flow_id, stored_name=stored_name)
