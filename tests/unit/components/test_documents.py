"""PDF and Word text for the File component, from documents built here byte by byte."""

from __future__ import annotations

import pytest

from flowless.components.documents import document_text
from tests.support import make_docx, make_pdf


def test_pdf_text():
    assert document_text("report.pdf", make_pdf("Revenue grew 12 percent")) == "Revenue grew 12 percent"


def test_docx_paragraphs():
    assert document_text("memo.docx", make_docx("First line", "Second line")) == "First line\nSecond line"


@pytest.mark.parametrize("name", ["broken.pdf", "broken.docx"])
def test_unreadable_documents_are_named(name):
    with pytest.raises(ValueError, match=f"Cannot read '{name}'"):
        document_text(name, b"not a document at all")
