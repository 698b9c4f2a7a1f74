"""Flow files in and out: Langflow exports (one flow, {"flows": [...]}, or a zip of them) and downloads."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from flowless.errors import InvalidInputError
from flowless.store.flows import Flow
from flowless.wire.langflow import FlowCreate

__all__ = ["flow_export", "flows_from_upload", "parse_flow_documents", "zip_flows"]

# Fields whose value is a secret in a flow's node templates; blanked on export as Langflow does.
_SECRET_FIELD = re.compile(r"api_key|password|secret|token", re.IGNORECASE)


def _json_documents(raw: bytes, filename: str | None) -> list[Any]:
    """The JSON documents of an upload: the file itself, or every .json entry of a zip."""
    if raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".json") and not n.startswith("__MACOSX")]
                return [json.loads(archive.read(n)) for n in names]
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"Could not read the zip file {filename or ''}: {exc}".strip()) from exc
    try:
        return [json.loads(raw)]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"The file is not valid JSON: {exc}") from exc


def parse_flow_documents(documents: list[Any]) -> list[FlowCreate]:
    """Flows from Langflow export documents: a flow, {"flows": [...]} or a project export."""
    raw_flows: list[Any] = []
    for doc in documents:
        if isinstance(doc, dict) and isinstance(doc.get("flows"), list):
            raw_flows.extend(doc["flows"])
        else:
            raw_flows.append(doc)
    flows = []
    for index, raw in enumerate(raw_flows):
        if not isinstance(raw, dict):
            raise InvalidInputError(f"Flow {index} is not a JSON object")
        try:
            flows.append(FlowCreate.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise InvalidInputError(f"Flow {index} ({raw.get('name', 'unnamed')}): {where}: {first['msg']}") from exc
    return flows


def flows_from_upload(raw: bytes, filename: str | None) -> list[FlowCreate]:
    """Parse an uploaded export; no flows at all is an error, in Langflow's words."""
    flows = parse_flow_documents(_json_documents(raw, filename))
    if not flows:
        raise InvalidInputError("No flows found in the file")
    return flows


def project_from_upload(raw: bytes, filename: str | None) -> tuple[str | None, str | None, list[FlowCreate]]:
    """A project upload: Langflow's JSON {"folder_name", "folder_description", "flows"} or a zip of flows
    (the project is then named after the zip file)."""
    documents = _json_documents(raw, filename)
    if len(documents) == 1 and isinstance(documents[0], dict) and "flows" in documents[0] and raw[:4] != b"PK\x03\x04":
        doc = documents[0]
        flows = parse_flow_documents([{"flows": doc.get("flows") or []}])
        if not flows:
            raise InvalidInputError("No flows found in the data")
        return doc.get("folder_name") or doc.get("name"), doc.get("folder_description") or doc.get("description"), flows
    flows = parse_flow_documents(documents)
    if not flows:
        raise InvalidInputError("No flows found in the file")
    name = None
    if filename:
        name = re.sub(r"\.zip$", "", filename.rsplit("/", 1)[-1], flags=re.IGNORECASE) or None
    return name, None, flows


def _blank_secrets(data: Any) -> Any:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, dict) and _SECRET_FIELD.search(key) and value.get("password") and "value" in value:
                value = {**value, "value": None}
            out[key] = _blank_secrets(value)
        return out
    if isinstance(data, list):
        return [_blank_secrets(v) for v in data]
    return data


def flow_export(flow: Flow) -> dict[str, Any]:
    """A flow as Langflow downloads it: every field, with secret template values blanked."""
    from flowless.langflow.flows import flow_read

    dumped = flow_read(flow).model_dump()
    dumped["data"] = _blank_secrets(dumped.get("data"))
    return dumped


def zip_flows(flows: list[Flow]) -> bytes:
    """A zip with one "{name}.json" per flow; repeated names get " (n)" so none is lost."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for flow in flows:
            name, n = f"{flow.name}.json", 1
            while name in used:
                name, n = f"{flow.name} ({n}).json", n + 1
            used.add(name)
            archive.writestr(name, json.dumps(flow_export(flow), ensure_ascii=False, indent=2))
    return buffer.getvalue()


def timestamp_for_filename() -> str:
    return datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
