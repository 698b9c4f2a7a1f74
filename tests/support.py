"""Helpers that test modules import (fixtures live in conftest.py)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


def multipart(field: str, filename: str, content: bytes,
              content_type: str = "application/json") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with one file, and its content-type header."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def upload_flow(api: Any, name: str, account: Any = None, **changes: Any) -> dict[str, Any]:
    """Import a shared fixture through /api/v1/flows/upload/ and return the created flow."""
    matches = list(FIXTURES.glob(f"langflow/**/{name}.json"))
    assert matches, f"no fixture named {name}"
    export = json.loads(matches[0].read_text())
    export.update(changes)
    body, headers = multipart("file", f"{name}.json", json.dumps(export).encode())
    reply = api.post("flows", "/api/v1/flows/upload/", body=body, headers=headers, account=account)
    assert reply.status_code == 201, reply.content
    return reply.json()[0]


_loaded: dict[str, Any] = {}


def load_function(name: str) -> Any:
    """functions/<name>/app.py, imported once under a unique module name (every function has an app.py)."""
    from flowless.local.events import load_function as load

    if name not in _loaded:
        _loaded[name] = load(ROOT / "functions" / name / "app.py", f"flowless_fn_{name}")
    return _loaded[name]


def node(node_id: str, fields: dict[str, Any] | None = None, *, kind: str | None = None,
         display_name: str | None = None) -> dict[str, Any]:
    """A flow node as Langflow exports it: type from `kind` (or the id's prefix), fields as template values.

    Every node carries Python `code` that would stop the process if anything ever executed it.
    """
    kind = kind or node_id.split("-")[0]
    template = {name: {"type": "str", "value": value} for name, value in (fields or {}).items()}
    template["code"] = {"type": "code", "value": "raise SystemExit"}
    return {"id": node_id, "type": "genericNode",
            "data": {"id": node_id, "type": kind, "node": {"template": template, "display_name": display_name or kind}}}


def edge(source: str, output: str, target: str, field: str) -> dict[str, Any]:
    """An edge from `source`'s output to `target`'s field, with Langflow's handles."""
    return {"source": source, "target": target,
            "data": {"sourceHandle": {"id": source, "name": output},
                     "targetHandle": {"id": target, "fieldName": field}}}


def make_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def make_docx(*paragraphs: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", xml)
    return out.getvalue()
