"""Text out of binary documents the File component reads: PDF (pypdf, imported on first use) and Word .docx
(its XML read with the standard library)."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

__all__ = ["DOCUMENT_EXTENSIONS", "document_text"]

DOCUMENT_EXTENSIONS = ("pdf", "docx")
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A document that expands past this is refused: a small zip can unpack to gigabytes.
_MAX_XML_BYTES = 50 * 1024 * 1024


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ValueError(f"not a readable PDF: {exc}") from exc


def _docx_text(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > _MAX_XML_BYTES:
                raise ValueError("the document is too large to read")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ValueError(f"not a readable .docx file: {exc}") from exc
    paragraphs = []
    for paragraph in root.iter(f"{_WORD}p"):
        parts = []
        for element in paragraph.iter():
            if element.tag == f"{_WORD}t" and element.text:
                parts.append(element.text)
            elif element.tag == f"{_WORD}tab":
                parts.append("\t")
            elif element.tag in (f"{_WORD}br", f"{_WORD}cr"):
                parts.append("\n")
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs).strip()


def document_text(name: str, content: bytes) -> str:
    """The text of a .pdf or .docx file; ValueError naming the file when it cannot be read."""
    extension = name.rpartition(".")[2].lower()
    try:
        return _pdf_text(content) if extension == "pdf" else _docx_text(content)
    except ValueError as exc:
        raise ValueError(f"Cannot read {name!r}: {exc}") from exc
