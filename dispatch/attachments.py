"""Attachments (附件) of a trip request: which files are accepted, and under what name. Pure.

A file is judged by its first bytes (its magic number), never by the name or the type the
browser declares: PDF, JPEG, PNG, and the Office Open XML documents DOCX and XLSX (ZIP
archives told apart by the parts they hold; macro-enabled ones are refused). The stored name
is the user's, made safe to show and to offer back as a download name, and it ends with the
extension of what the file really is.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

MAX_SIZE_BYTES = 10 * 1024 * 1024  # 10 MiB, also checked by the database
MAX_LIVE_PER_REQUEST = 10
MAX_FILENAME_CHARS = 120
# While the request is being filed or approved its papers may change; after, they are the record.
EDITABLE_STATES = frozenset({"draft", "submitted", "pending_approval"})


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the one added to a name that lacks it


PDF = FileKind("pdf", "application/pdf", (".pdf",))
JPEG = FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg", ".jpe"))
PNG = FileKind("png", "image/png", (".png",))
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
KINDS = (PDF, JPEG, PNG, DOCX, XLSX)
ALLOWED_EXTENSIONS = frozenset(ext for kind in KINDS for ext in kind.extensions)


class AttachmentRefused(Exception):
    """A file the platform will not keep: `code` is the API's error code."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class AcceptedFile:
    filename: str
    kind: FileKind


def _ooxml_kind(data: bytes) -> FileKind | None:
    """DOCX or XLSX from the archive's directory (names only: nothing is decompressed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def sniff(data: bytes) -> FileKind | None:
    """What the bytes are, by their signature; None for anything not accepted."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_kind(data)
    return None


_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")


def sanitise_filename(raw: str) -> str:
    """The user's file name, safe to display and to offer as a download name: the last path
    component only, no control or invisible (bidi, zero-width) characters, none of the
    characters file systems reserve, no leading dots, at most MAX_FILENAME_CHARS characters
    with its extension kept. May be empty (nothing usable was left)."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if c.isspace() else c for c in name
                   if c.isspace() or unicodedata.category(c)[0] != "C")
    name = _SPACES.sub(" ", _RESERVED.sub("_", name)).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(" .")
    return name


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return "." + ext.lower() if dot and stem else ""


def accept(raw_filename: str, data: bytes) -> AcceptedFile:
    """Checks one upload and names it; raises AttachmentRefused (empty, too large, a type
    not accepted, or a name that says another accepted type than the content)."""
    if not data:
        raise AttachmentRefused("empty_attachment", "The file is empty.")
    if len(data) > MAX_SIZE_BYTES:
        raise AttachmentRefused("attachment_too_large", "A file may be 10 MiB at most.",
                                {"max_size_bytes": MAX_SIZE_BYTES})
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(
            "unsupported_attachment_type", "Only PDF, JPEG, PNG, DOCX and XLSX files are accepted.",
            {"allowed": [k.name for k in KINDS]})
    name = sanitise_filename(raw_filename)
    ext = _extension(name)
    if ext in ALLOWED_EXTENSIONS and ext not in kind.extensions:
        raise AttachmentRefused(
            "unsupported_attachment_type",
            f"The file's name says {ext} but its content is {kind.name.upper()}.",
            {"allowed": [k.name for k in KINDS], "detected": kind.name, "extension": ext})
    if ext not in kind.extensions:
        name = (name or "attachment")[: MAX_FILENAME_CHARS - len(kind.extensions[0])]
        name = name.rstrip(" .") + kind.extensions[0]
    return AcceptedFile(name, kind)


def ascii_filename(name: str) -> str:
    """An ASCII stand-in for a download name (the `filename=` of Content-Disposition, for
    clients that ignore `filename*`): accents dropped, other characters replaced by "_"."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""

    def fold(text: str) -> str:
        chars = (unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode() or "_" for c in text)
        return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9 ._-]", "_", "".join(chars))).strip(" ._")

    stem, ext = fold(stem), fold(ext)
    return (stem or "attachment") + (f".{ext}" if ext else "")
