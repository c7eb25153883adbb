"""Files over HTTP: one file received from a multipart/form-data body, read as it streams in
and abandoned as soon as it passes its size limit, and the Content-Disposition of a download.

Why not FastAPI's `UploadFile`: Starlette parses the whole body (spooling it to disk) before
the route runs, so a limit checked in the route comes after the server has taken the whole
upload, however big. Here the body is parsed chunk by chunk and reading stops at the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from dispatch.attachments import ascii_filename

# Room for the multipart framing around the file (boundaries, part headers, small fields).
FRAMING_BYTES = 64 * 1024


class NotMultipart(Exception):
    """The body is not multipart/form-data."""


class TooLarge(Exception):
    """The file (or the body) passed its limit; reading stopped there."""


class BadUpload(Exception):
    """The body is multipart but not one file in the expected field."""


@dataclass(frozen=True)
class ReceivedFile:
    filename: str  # as the client sent it (unsanitised)
    declared_type: str  # the part's Content-Type, for information only
    data: bytes


@dataclass
class _Collector:
    """python-multipart callbacks keeping the one file of `field_name`, up to max_bytes."""

    field_name: str
    max_bytes: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    header_name: bytes = b""
    header_value: bytes = b""
    current: bytearray | None = None
    files: list[ReceivedFile] = field(default_factory=list)
    filename: str = ""
    declared_type: str = ""

    def on_part_begin(self) -> None:
        self.headers, self.current = [], None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers.append((self.header_name.lower(), self.header_value))
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        headers = dict(self.headers)
        _, options = parse_options_header(headers.get(b"content-disposition", b"").decode("latin-1"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != self.field_name:
            return  # another field: skipped (the body's overall limit still counts it)
        if b"filename" not in options:
            raise BadUpload(f"The `{self.field_name}` field must be a file.")
        if self.files:
            raise BadUpload("Send one file per upload.")
        self.filename = options[b"filename"].decode("utf-8", "replace")
        self.declared_type = headers.get(b"content-type", b"").decode("latin-1").strip()
        self.current = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is None:
            return
        if len(self.current) + (end - start) > self.max_bytes:
            raise TooLarge
        self.current += data[start:end]

    def on_part_end(self) -> None:
        if self.current is not None:
            self.files.append(ReceivedFile(self.filename, self.declared_type, bytes(self.current)))
            self.current = None

    def callbacks(self) -> dict:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_header_field", "on_header_value", "on_header_end",
            "on_headers_finished", "on_part_data", "on_part_end")}


async def receive_file(request: Request, field_name: str, max_bytes: int) -> ReceivedFile:
    """The one file of `field_name` in the request's multipart body. Raises NotMultipart,
    TooLarge (as soon as the file passes max_bytes, or the body max_bytes + framing; a declared
    Content-Length that large is refused before anything is read) or BadUpload."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise NotMultipart
    body_limit = max_bytes + FRAMING_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise TooLarge
    collector = _Collector(field_name, max_bytes)
    parser = MultipartParser(params[b"boundary"], collector.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise TooLarge
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise BadUpload("The multipart body cannot be parsed.") from exc
    except ClientDisconnect as exc:
        raise BadUpload("The upload was interrupted.") from exc
    if not collector.files:
        raise BadUpload(f"No file in the `{field_name}` field.")
    return collector.files[0]


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII `filename` for old clients and the real name as UTF-8 in
    `filename*` (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"
