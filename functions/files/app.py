"""Langflow's file APIs: /api/v1/files (per flow) and /api/v2/files (per user), plus presigned uploads.

API Gateway hands Lambda at most ~6 MB of request, so the multipart routes are for small files; larger ones
go straight to S3 through POST /api/v2/files/uploads and are registered when the object lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Body, File, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from mangum import Mangum
from pydantic import BaseModel

from flowless.errors import InvalidInputError
from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router
from flowless.langflow import files

v1 = Router(prefix="/api/v1/files", tags=["Files"])
v2 = Router(prefix="/api/v2/files", tags=["Files"])


class UploadRequest(BaseModel):
    name: str
    content_type: str | None = None


def _disposition(name: str) -> str:
    # Header values are Latin-1 on the wire: an ASCII fallback, and the exact name in RFC 6266's filename*.
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download(chunks: Iterator[bytes], *, size: int, name: str, content_type: str) -> StreamingResponse:
    return StreamingResponse(chunks, media_type=content_type,
                             headers={"Content-Disposition": _disposition(name), "Content-Length": str(size)})


def _v2_public(record: Any) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "path": record.path, "size": record.size,
            "provider": record.provider}


# ---- v1: per flow ----

@v1.post("/upload/{flow_id}", status_code=201)
async def upload_flow_file(caller: CallerDep, flow_id: UUID, file: Annotated[UploadFile, File()]) -> dict[str, str]:
    """Upload a file to a flow."""
    record = files.upload_flow_file(user_id=caller.user_id, flow_id=str(flow_id), filename=file.filename,
                                    content=await file.read(), content_type=file.content_type)
    return {"flowId": str(flow_id), "file_path": record.path}


@v1.get("/list/{flow_id}")
def list_flow_files(caller: CallerDep, flow_id: UUID) -> dict[str, list[str]]:
    """List a flow's files."""
    return {"files": files.list_flow_files(caller.user_id, str(flow_id))}


@v1.get("/download/{flow_id}/{file_name}", response_model=None)
def download_flow_file(caller: CallerDep, flow_id: UUID, file_name: str) -> Response:
    """Download a flow's file."""
    record, chunks, size = files.open_flow_file(caller.user_id, str(flow_id), file_name)
    return _download(chunks, size=size, name=record.stored_name, content_type=record.content_type)


@v1.get("/images/{flow_id}/{file_name}", response_model=None)
def download_flow_image(caller: CallerDep, flow_id: UUID, file_name: str) -> Response:
    """Serve a flow's image with its image type."""
    record, chunks, size = files.open_flow_file(caller.user_id, str(flow_id), file_name)
    if not record.content_type.startswith("image/"):
        raise InvalidInputError(f"File {file_name} is not an image")
    return StreamingResponse(chunks, media_type=record.content_type, headers={"Content-Length": str(size)})


@v1.delete("/delete/{flow_id}/{file_name}")
def delete_flow_file(caller: CallerDep, flow_id: UUID, file_name: str) -> dict[str, str]:
    """Delete a flow's file."""
    files.delete_flow_file(caller.user_id, str(flow_id), file_name)
    return {"message": f"File {file_name} deleted successfully"}


# ---- v2: per user ----

@v2.post("", status_code=201)
async def upload_file(caller: CallerDep, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Upload a file."""
    record = files.upload_file(user_id=caller.user_id, filename=file.filename, content=await file.read(),
                               content_type=file.content_type)
    return _v2_public(record)


@v2.get("")
def list_files(caller: CallerDep) -> list[dict[str, Any]]:
    """List the caller's files."""
    return [r.public() for r in files.list_files(caller.user_id)]


@v2.delete("")
def delete_all_files(caller: CallerDep) -> dict[str, str]:
    """Delete all the caller's files."""
    files.delete_all_files(caller.user_id)
    return {"message": "All files deleted successfully"}


@v2.post("/uploads", status_code=201)
def start_upload(caller: CallerDep, body: UploadRequest) -> dict[str, Any]:
    """Start a direct upload to S3 for a file too large to send through the API."""
    return files.start_upload(user_id=caller.user_id, name=body.name, content_type=body.content_type)


@v2.delete("/batch/")
def delete_files(caller: CallerDep, file_ids: Annotated[list[UUID], Body()]) -> dict[str, str]:
    """Delete several files."""
    count = files.delete_files(caller.user_id, [str(i) for i in file_ids])
    return {"message": f"{count} files deleted successfully"}


@v2.post("/batch/", response_model=None)
def download_files(caller: CallerDep, file_ids: Annotated[list[UUID], Body()]) -> Response:
    """Download several files as a zip."""
    from flowless.langflow.exports import timestamp_for_filename

    archive = files.zip_files(caller.user_id, [str(i) for i in file_ids])
    return Response(archive, media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename={timestamp_for_filename()}_langflow_files.zip"})


@v2.get("/{file_id}", response_model=None)
def download_file(caller: CallerDep, file_id: UUID) -> Response:
    """Download a file."""
    record, chunks, size = files.open_file(caller.user_id, str(file_id))
    return _download(chunks, size=size, name=record.download_name, content_type=record.content_type)


@v2.put("/{file_id}")
def rename_file(caller: CallerDep, file_id: UUID, name: Annotated[str, Query()]) -> dict[str, Any]:
    """Rename a file (its path does not change)."""
    return _v2_public(files.rename_file(caller.user_id, str(file_id), name))


@v2.delete("/{file_id}")
def delete_file(caller: CallerDep, file_id: UUID) -> dict[str, str]:
    """Delete a file."""
    record = files.delete_file(caller.user_id, str(file_id))
    return {"detail": f"File {record.name} deleted successfully"}


app = create_app(title="files", routers=[v1, v2])
handler = Mangum(app, lifespan="off")
