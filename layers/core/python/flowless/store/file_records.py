"""File metadata in DynamoDB: what Langflow keeps in its `file` table (v2) and its per-flow folders (v1).

The bytes live in S3 under a key made from the owner's id and the hash of the file's path
(`FileRepository`); a user's file name is only ever an attribute here, so any name (slashes, "..",
unicode, 1,000 characters) is stored and served back as given. Every item sits under the owner's
partition, so a file id alone never reaches another user's file.

Items (see `flowless.store` for the whole key map):
- USER#{user_id} | FILE#{file_id}                    a v2 file: name, path, size, content_type, timestamps
- USER#{user_id} | FLOWFILE#{flow_id}#{stored_name}  a v1 file of one flow (listed by prefix)
- USER#{user_id} | UPLOAD#{file_id}                  a presigned upload not landed yet (`ttl` 1 day)
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from flowless.clock import now_iso
from flowless.errors import NotFoundError
from flowless.store._dynamo import Table

__all__ = ["FileRecord", "FileRecordRepository", "FlowFileRecord", "PendingUpload", "split_name", "unique_name"]

# An extension we copy into the path must be plain: it becomes part of the string flows send back to us.
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}")
_NUMBERED = re.compile(r"^(?P<root>.*) \((?P<n>\d+)\)$")
# A presigned upload that never lands is forgotten after a day (the staging object expires too).
_UPLOAD_TTL_SECONDS = 86400


def split_name(filename: str) -> tuple[str, str]:
    """("report", ".txt") for "report.txt"; no extension when the last dot is not followed by a plain one."""
    stem, dot, ext = filename.rpartition(".")
    if dot and stem and _SAFE_EXTENSION.fullmatch(f".{ext}"):
        return stem, f".{ext}"
    return filename, ""


def unique_name(root: str, taken: set[str]) -> str:
    """Langflow's rule: `root` when no name starts with it, else "root (n)", n one past the highest seen."""
    starting = [name for name in taken if name.startswith(root)]
    if not starting:
        return root
    highest = 0
    for name in starting:
        matched = _NUMBERED.match(name)
        if matched and matched["root"] == root:
            highest = max(highest, int(matched["n"]))
    return f"{root} ({highest + 1})"


@dataclass
class FileRecord:
    """A v2 file as Langflow's `file` table row, plus what we need to serve it."""

    id: str
    user_id: str
    name: str
    path: str
    size: int
    content_type: str
    extension: str = ""
    provider: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def download_name(self) -> str:
        return f"{self.name}{self.extension}"

    def public(self) -> dict[str, Any]:
        """Langflow's full row: {id, user_id, name, path, size, provider, created_at, updated_at}."""
        row = asdict(self)
        del row["content_type"], row["extension"]
        return row


@dataclass
class FlowFileRecord:
    """A v1 file: `stored_name` is the name in its flow's folder; `filename` is what the client sent."""

    user_id: str
    flow_id: str
    stored_name: str
    filename: str
    size: int
    content_type: str
    created_at: str = ""

    @property
    def path(self) -> str:
        return f"{self.flow_id}/{self.stored_name}"


@dataclass
class PendingUpload:
    """A presigned upload: the id and name the file gets once its object lands."""

    id: str
    user_id: str
    name: str
    content_type: str


def _user(user_id: str) -> str:
    return f"USER#{user_id}"


class FileRecordRepository:
    """A user's file metadata: v2 files, v1 flow files and pending presigned uploads."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    # ---- v2 ----
    def add(self, record: FileRecord) -> FileRecord:
        now = now_iso()
        record.created_at = record.created_at or now
        record.updated_at = now
        self.table.put({"PK": _user(record.user_id), "SK": f"FILE#{record.id}", "type": "file", **asdict(record)},
                       condition="attribute_not_exists(PK)")
        return record

    def get(self, *, user_id: str, file_id: str) -> FileRecord:
        item = self.table.get(_user(user_id), f"FILE#{file_id}")
        if item is None:
            raise NotFoundError("File not found")
        return _record(item)

    def exists(self, *, user_id: str, file_id: str) -> bool:
        return self.table.get(_user(user_id), f"FILE#{file_id}", projection="PK") is not None

    def list(self, *, user_id: str) -> list[FileRecord]:
        items = self.table.query_prefix(_user(user_id), "FILE#")
        return sorted((_record(i) for i in items), key=lambda r: r.created_at)

    def names(self, *, user_id: str) -> set[str]:
        return {str(i["name"]) for i in self.table.query_prefix(_user(user_id), "FILE#", projection="name")}

    def rename(self, *, user_id: str, file_id: str, name: str) -> FileRecord:
        updated = self.table.update(
            {"PK": _user(user_id), "SK": f"FILE#{file_id}"}, "SET #n = :n, updated_at = :u",
            condition="attribute_exists(PK)", names={"#n": "name"}, values={":n": name, ":u": now_iso()},
        )
        if not updated:
            raise NotFoundError("File not found")
        return self.get(user_id=user_id, file_id=file_id)

    def remove(self, *, user_id: str, file_id: str) -> None:
        self.table.delete(_user(user_id), f"FILE#{file_id}")

    # ---- v1 ----
    def flow_exists(self, *, user_id: str, flow_id: str) -> bool:
        """Whether the user owns this flow (v1 files belong to a flow; one small projected read)."""
        return self.table.get(_user(user_id), f"FLOW#{flow_id}", projection="PK") is not None

    def add_flow_file(self, record: FlowFileRecord) -> FlowFileRecord:
        record.created_at = record.created_at or now_iso()
        self.table.put({"PK": _user(record.user_id), "SK": _flow_file_sk(record.flow_id, record.stored_name),
                        "type": "flow_file", **asdict(record)})
        return record

    def get_flow_file(self, *, user_id: str, flow_id: str, stored_name: str) -> FlowFileRecord:
        item = self.table.get(_user(user_id), _flow_file_sk(flow_id, stored_name))
        if item is None:
            raise NotFoundError("File not found")
        return _flow_record(item)

    def list_flow_files(self, *, user_id: str, flow_id: str) -> list[FlowFileRecord]:
        items = self.table.query_prefix(_user(user_id), f"FLOWFILE#{flow_id}#")
        return sorted((_flow_record(i) for i in items), key=lambda r: r.created_at)

    def remove_flow_file(self, *, user_id: str, flow_id: str, stored_name: str) -> None:
        self.table.delete(_user(user_id), _flow_file_sk(flow_id, stored_name))

    # ---- presigned uploads ----
    def add_pending(self, upload: PendingUpload) -> None:
        self.table.put({"PK": _user(upload.user_id), "SK": f"UPLOAD#{upload.id}", "type": "upload",
                        **asdict(upload), "ttl": int(time.time()) + _UPLOAD_TTL_SECONDS})

    def pending(self, *, user_id: str, file_id: str) -> PendingUpload | None:
        item = self.table.get(_user(user_id), f"UPLOAD#{file_id}")
        if item is None:
            return None
        return PendingUpload(id=item["id"], user_id=item["user_id"], name=item["name"],
                             content_type=item.get("content_type", "application/octet-stream"))

    def remove_pending(self, *, user_id: str, file_id: str) -> None:
        self.table.delete(_user(user_id), f"UPLOAD#{file_id}")


def _flow_file_sk(flow_id: str, stored_name: str) -> str:
    # A stored name is at most 255 bytes (validated with its path), which keeps the SK under DynamoDB's 1 KB.
    return f"FLOWFILE#{flow_id}#{stored_name}"


def _record(item: dict[str, Any]) -> FileRecord:
    return FileRecord(id=item["id"], user_id=item["user_id"], name=item["name"], path=item["path"],
                      size=int(item.get("size", 0)), content_type=item.get("content_type", "application/octet-stream"),
                      extension=item.get("extension", ""), provider=item.get("provider"),
                      created_at=item.get("created_at", ""), updated_at=item.get("updated_at", ""))


def _flow_record(item: dict[str, Any]) -> FlowFileRecord:
    return FlowFileRecord(user_id=item["user_id"], flow_id=item["flow_id"], stored_name=item["stored_name"],
                          filename=item.get("filename", item["stored_name"]), size=int(item.get("size", 0)),
                          content_type=item.get("content_type", "application/octet-stream"),
                          created_at=item.get("created_at", ""))
