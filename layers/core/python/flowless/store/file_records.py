"""File metadata in DynamoDB: what Langflow keeps in its `file` table (v2) and its per-flow folders (v1).

The bytes live in S3 under a key made from the owner's id and the hash of the file's path
(`FileRepository`); a user's file name is only ever an attribute here, so any name (slashes, "..",
unicode, 1,000 characters) is stored and served back as given. Every item sits under the owner's
partition, so a file id alone never reaches another user's file.

A new v2 file gets Langflow's unique name ("x", "x (1)", ...). Reading the taken names and then writing
is not enough when two uploads of one name run at once, so the file's item is written in one transaction
with a claim on its name: the upload that loses the claim picks the next name. Renames and deletes move or
release the claim, but only a claim that is the file's own; Langflow does not make renamed names unique.

Items (see `flowless.store` for the whole key map):
- USER#{user_id} | FILE#{file_id}                    a v2 file: name, path, size, content_type, timestamps
- USER#{user_id} | FILENAME#{name}                   a v2 file name's claim → file_id (FILENAMEHASH#{sha256}
  for a name too long for a sort key)
- USER#{user_id} | FLOWFILE#{flow_id}#{stored_name}  a v1 file of one flow (listed by prefix)
- USER#{user_id} | UPLOAD#{file_id}                  a presigned upload not landed yet (`ttl` 1 day)
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from flowless.clock import now_iso
from flowless.errors import ConflictError, NotFoundError
from flowless.store._dynamo import Table, cancellation_codes, error_code

__all__ = ["FileRecord", "FileRecordRepository", "FlowFileRecord", "PendingUpload", "split_name", "unique_name"]

# An extension we copy into the path must be plain: it becomes part of the string flows send back to us.
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}")
_NUMBERED = re.compile(r"^(?P<root>.*) \((?P<n>\d+)\)$")
# A presigned upload that never lands is forgotten after a day (the staging object expires too).
_UPLOAD_TTL_SECONDS = 86400
# How many names an upload tries when racing uploads (or claims left behind) keep taking the one it picked.
_NAME_RETRIES = 8
# DynamoDB caps a sort key at 1,024 bytes; a name (up to 1,024 characters) may not fit after the prefix.
_MAX_SORT_KEY_BYTES = 1024

logger = logging.getLogger("flowless")


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
        """Store a new v2 file under Langflow's unique form of `record.name` ("x", "x (1)", ...).

        `record.name` is the name asked for; the record comes back with the name it got. A name whose
        claim turns out to be held (a racing upload won it, or a claim was left behind by a file that
        has since lost the name) counts as taken, and the next free name is tried.
        """
        wanted = record.name
        now = now_iso()
        record.created_at = record.created_at or now
        record.updated_at = now
        claimed: set[str] = set()
        for _ in range(_NAME_RETRIES):
            record.name = unique_name(wanted, self.names(user_id=record.user_id) | claimed)
            try:
                self.table.transact([
                    {"Put": {"Item": {"PK": _user(record.user_id), "SK": f"FILE#{record.id}", "type": "file",
                                      **asdict(record)},
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"Item": _claim(record.user_id, record.id, record.name),
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                ])
                return record
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(exc)
                if codes[:1] == ["ConditionalCheckFailed"]:
                    raise ConflictError(f"File {record.id} already exists") from exc
                if codes[1:2] == ["ConditionalCheckFailed"]:
                    claimed.add(record.name)
                # Otherwise a concurrent transaction touched one of the items: read the names again.
        raise ConflictError("Could not find a free file name; try again")

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
        """Rename one of the user's files. As in Langflow the new name need not be unique; the file's
        claim moves to it when the name is free (best effort: the rename stands even if the move fails)."""
        record = self.get(user_id=user_id, file_id=file_id)
        updated_at = now_iso()
        updated = self.table.update(
            {"PK": _user(user_id), "SK": f"FILE#{file_id}"}, "SET #n = :n, updated_at = :u",
            condition="attribute_exists(PK)", names={"#n": "name"}, values={":n": name, ":u": updated_at},
        )
        if not updated:
            raise NotFoundError("File not found")
        old_name, record.name, record.updated_at = record.name, name, updated_at
        if old_name != name:
            self._release_name(user_id=user_id, file_id=file_id, name=old_name)
            self._claim_name(user_id=user_id, file_id=file_id, name=name)
        return record

    def remove(self, *, user_id: str, file_id: str) -> None:
        """Delete a file's record, and its name's claim if that claim is the file's."""
        item = self.table.get(_user(user_id), f"FILE#{file_id}", projection="name")
        self.table.delete(_user(user_id), f"FILE#{file_id}")
        if item is not None:
            self._release_name(user_id=user_id, file_id=file_id, name=str(item["name"]))

    def _claim_name(self, *, user_id: str, file_id: str, name: str) -> None:
        """Claim `name` for the file unless some file holds its claim (never overwrite another's)."""
        try:
            self.table.put(_claim(user_id, file_id, name), condition="attribute_not_exists(PK)")
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                _claim_not_moved(exc)
        except BotoCoreError as exc:
            _claim_not_moved(exc)

    def _release_name(self, *, user_id: str, file_id: str, name: str) -> None:
        """Delete `name`'s claim if it is the file's; another file's claim stays."""
        try:
            # Table.delete has no condition; a one-action transaction is a conditional delete.
            self.table.transact([{"Delete": {
                "Key": {"PK": _user(user_id), "SK": _name_sk(name)},
                "ConditionExpression": "file_id = :f", "ExpressionAttributeValues": {":f": file_id},
            }}])
        except ClientError as exc:
            if cancellation_codes(exc) != ["ConditionalCheckFailed"]:
                _claim_not_moved(exc)
        except BotoCoreError as exc:
            _claim_not_moved(exc)

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


def _name_sk(name: str) -> str:
    sk = f"FILENAME#{name}"
    if len(sk.encode()) <= _MAX_SORT_KEY_BYTES:
        return sk
    # Its own prefix, so a digest never collides with a short name that happens to look like one.
    return f"FILENAMEHASH#{hashlib.sha256(name.encode()).hexdigest()}"


def _claim(user_id: str, file_id: str, name: str) -> dict[str, Any]:
    return {"PK": _user(user_id), "SK": _name_sk(name), "file_id": file_id}


def _claim_not_moved(exc: Exception) -> None:
    # A claim left behind only makes a later upload of that name try the next one (see `add`).
    logger.warning("file name claim not updated: %s", error_code(exc) or type(exc).__name__)


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
