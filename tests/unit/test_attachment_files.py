"""Which attachment files are accepted and under what name (dispatch/attachments.py), and the
download header (web/file_transfer.py). Pure: bytes in, verdicts out."""

from __future__ import annotations

import io
import zipfile

import pytest

from dispatch.attachments import (
    DOCX,
    JPEG,
    MAX_FILENAME_CHARS,
    MAX_SIZE_BYTES,
    PDF,
    PNG,
    XLSX,
    AttachmentRefused,
    accept,
    ascii_filename,
    sanitise_filename,
    sniff,
)
from web.file_transfer import content_disposition


def archive(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n...", PDF),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG),
    (archive("[Content_Types].xml", "word/document.xml"), DOCX),
    (archive("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"), XLSX),
    (archive("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), None),  # .docm
    (archive("word/document.xml"), None),  # no content types: not OOXML
    (archive("readme.txt"), None),
    (b"PK\x03\x04 truncated", None),
    (b"MZ\x90\x00", None),  # a Windows executable
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None),  # old .doc / .xls (OLE)
    (b"<!doctype html>", None),
    (b" %PDF-1.4", None),  # the signature must open the file
])
def test_kind_comes_from_the_signature(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize(("raw", "clean"), [
    ("会议通知.pdf", "会议通知.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\张三\\出差审批单.docx", "出差审批单.docx"),
    ("evil\u202egpj.exe", "evilgpj.exe"),  # the right-to-left override is dropped
    ("a\x00b\r\nc.pdf", "ab c.pdf"),  # line breaks are spaces
    ('re"port<1>:?*|.pdf', "re_port_1_____.pdf"),
    ("  ..hidden.pdf  ", "hidden.pdf"),
    ("two   spaces\tand tab.png", "two spaces and tab.png"),
    ("...", ""),
    ("ｆｕｌｌ.pdf", "ｆｕｌｌ.pdf"),  # NFC keeps full-width letters (they are what the user typed)
])
def test_names_are_sanitised(raw, clean):
    assert sanitise_filename(raw) == clean


def test_long_names_keep_their_extension():
    name = sanitise_filename("长" * 300 + ".xlsx")
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("长.xlsx")


def test_accepted_names_end_with_the_real_extension():
    assert accept("会议通知", b"%PDF-1.4").filename == "会议通知.pdf"
    assert accept("scan.JPEG", b"\xff\xd8\xff\xdb").filename == "scan.JPEG"
    assert accept("scan.jpg", b"\xff\xd8\xff\xdb").kind == JPEG
    assert accept("report.final", b"%PDF-1.4").filename == "report.final.pdf"
    assert accept("tool.exe", b"%PDF-1.4").filename == "tool.exe.pdf"  # it is a PDF; named so
    assert accept("../", b"%PDF-1.4").filename == "attachment.pdf"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.pdf", b"", "empty_attachment"),
    ("a.pdf", b"%PDF-" + b"0" * MAX_SIZE_BYTES, "attachment_too_large"),
    ("a.pdf", b"MZ\x90\x00", "unsupported_attachment_type"),
    ("a.png", b"%PDF-1.4", "unsupported_attachment_type"),  # the name says another accepted type
    ("a.xlsx", archive("[Content_Types].xml", "word/document.xml"), "unsupported_attachment_type"),
])
def test_refusals(name, data, code):
    with pytest.raises(AttachmentRefused) as refused:
        accept(name, data)
    assert refused.value.code == code


@pytest.mark.parametrize(("name", "fallback"), [
    ("会议通知.pdf", "attachment.pdf"),
    ("会议通知2026.pdf", "2026.pdf"),
    ("Café résumé.docx", "Cafe resume.docx"),
    ('a"b\\c;d%e.png', "a_b_c_d_e.png"),
    ("报告.文档", "attachment"),
])
def test_ascii_fallback(name, fallback):
    assert ascii_filename(name) == fallback


def test_content_disposition_carries_both_names():
    assert content_disposition("会议 通知.pdf") == (
        "attachment; filename=\"attachment.pdf\"; "
        "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%20%E9%80%9A%E7%9F%A5.pdf")
