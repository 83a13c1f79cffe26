"""What an uploaded evidence file really is, decided from its bytes. Pure; no Django.

The name and the browser's content type are chosen by the sender, so neither is trusted:
a file is accepted only when its bytes are a PDF, a PNG, JPEG, GIF or WebP image, a
UTF-8 CSV table, or an XLSX workbook without macros. Everything else (HTML, SVG, scripts,
executables, other ZIP-based formats, old Office files) is refused with a reason a person
can act on.

Images also lose the metadata blocks that can name or place the person who made them
(EXIF, XMP, IPTC, comments, text chunks): an anonymous raiser's photo must not carry
their camera's owner name or the GPS position of their office.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

ACCEPTED_LABELS = "PDF, PNG, JPEG, GIF, WebP, CSV or XLSX"
# For the file picker only; the server never trusts it.
ACCEPT_ATTRIBUTE = (
    ".pdf,.png,.jpg,.jpeg,.gif,.webp,.csv,.xlsx,application/pdf,image/png,image/jpeg,"
    "image/gif,image/webp,text/csv,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# A workbook is small when unpacked; a ZIP that claims more is refused before it is read.
XLSX_MAX_UNPACKED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 2000
_CONTENT_TYPES_MAX = 1024 * 1024

CSV_DELIMITERS = (",", ";", "\t", "|")
# Control characters other than tab and line ends have no place in a CSV.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "pdf", "png", "jpeg", "gif", "webp", "csv", "xlsx"
    content_type: str
    label: str
    extension: str
    text: str | None = None  # the decoded text of a CSV, for the patient-identifier check


class Rejected(ValueError):
    """The file is not one of the accepted kinds; ``reason`` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


KINDS: dict[str, tuple[str, str, str]] = {
    "pdf": ("application/pdf", "PDF", ".pdf"),
    "png": ("image/png", "PNG image", ".png"),
    "jpeg": ("image/jpeg", "JPEG image", ".jpg"),
    "gif": ("image/gif", "GIF image", ".gif"),
    "webp": ("image/webp", "WebP image", ".webp"),
    "csv": ("text/csv", "CSV table", ".csv"),
    "xlsx": (XLSX_TYPE, "Excel workbook", ".xlsx"),
}
LABEL_BY_CONTENT_TYPE = {content_type: label for content_type, label, _ in KINDS.values()}
EXTENSION_BY_CONTENT_TYPE = {content_type: ext for content_type, _, ext in KINDS.values()}


def _found(kind: str, text: str | None = None) -> Sniffed:
    content_type, label, extension = KINDS[kind]
    return Sniffed(kind, content_type, label, extension, text)


def sniff(data: bytes) -> Sniffed:
    """The accepted kind of ``data``, or ``Rejected`` with the reason."""
    if not data:
        raise Rejected("The file is empty.")
    if data.startswith(b"%PDF-"):
        return _found("pdf")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _found("png")
    if data.startswith(b"\xff\xd8\xff"):
        return _found("jpeg")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _found("gif")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _found("webp")
    if data.startswith(b"PK\x03\x04"):
        _check_xlsx(data)
        return _found("xlsx")
    _refuse_known_dangerous(data)
    return _found("csv", _csv_text(data))


_MACHO = {
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
}


def _refuse_known_dangerous(data: bytes) -> None:
    head = data[:512]
    # Program headers always hold NUL bytes; a CSV starting with "MZ" does not.
    program = head.startswith((b"MZ", b"\x7fELF")) or head[:4] in _MACHO
    if program and b"\x00" in head:
        raise Rejected("Programs are not accepted as evidence.")
    if head.startswith(b"#!"):
        raise Rejected("Scripts are not accepted as evidence.")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise Rejected(
            "Old Office files (.xls, .doc) can carry macros and are not accepted: "
            "save the file as PDF, CSV or XLSX."
        )
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        raise Rejected("Archives are not accepted: attach the files themselves.")
    # Markup may be HTML or SVG, which run scripts when opened in a browser.
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    if lead.startswith(b"<"):
        if b"<svg" in data[:4096].lower():
            raise Rejected("SVG images can carry scripts and are not accepted: use PNG.")
        raise Rejected("Web pages and other markup (HTML, XML) are not accepted: use PDF.")


_NOT_ACCEPTED = f"This kind of file is not accepted. Attach a {ACCEPTED_LABELS} file."


def _csv_text(data: bytes) -> str:
    if b"\x00" in data:
        raise Rejected(_NOT_ACCEPTED)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Rejected(f"{_NOT_ACCEPTED} A CSV file must be saved as UTF-8 text.") from None
    if _CONTROL.search(text):
        raise Rejected(_NOT_ACCEPTED)
    if not _looks_tabular(text):
        raise Rejected(
            f"{_NOT_ACCEPTED} Text is accepted only as a CSV table: rows with the same number "
            "of columns, separated by commas, semicolons, tabs or bars."
        )
    return text


def _looks_tabular(text: str) -> bool:
    """At least two rows, every row split into the same number (two or more) of fields by
    one delimiter. Quoted fields may hold the delimiter and line breaks."""
    for delimiter in CSV_DELIMITERS:
        if delimiter not in text:
            continue
        widths: set[int] = set()
        rows = 0
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank lines between rows
                widths.add(len(row))
                rows += 1
                if len(widths) > 1:
                    break
        except csv.Error:
            continue
        if rows >= 2 and len(widths) == 1 and widths.pop() >= 2:
            return True
    return False


def _check_xlsx(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > XLSX_MAX_ENTRIES:
                raise Rejected("This archive holds too many files to be a workbook.")
            if sum(entry.file_size for entry in entries) > XLSX_MAX_UNPACKED:
                raise Rejected("This file unpacks to more than a workbook could hold.")
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                if "word/document.xml" in names or "ppt/presentation.xml" in names:
                    raise Rejected(
                        "Word and PowerPoint files are not accepted: save the file as PDF."
                    )
                raise Rejected(
                    "ZIP archives are not accepted: attach the files themselves "
                    f"({ACCEPTED_LABELS})."
                )
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                raise Rejected("This workbook is damaged.")
            content_types = archive.read(info)
    except Rejected:
        raise
    except Exception:  # a damaged ZIP can fail in many ways inside zipfile and zlib
        raise Rejected("This file looks like a damaged ZIP or workbook.") from None
    lowered = content_types.lower()
    if b"macroenabled" in lowered or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Rejected("Workbooks with macros (.xlsm) are not accepted: save the file as XLSX.")
    if _XLSX_MAIN not in content_types:
        raise Rejected(
            "Only ordinary Excel workbooks (.xlsx) are accepted, not templates or add-ins."
        )


# --- names ---------------------------------------------------------------------------------

NAME_MAX = 120


def clean_name(name: str, extension: str = "") -> str:
    """A display name: no folders, no control or direction-override characters, at most
    120 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters (direction overrides among them) go; any space is " ".
    name = "".join(
        " " if unicodedata.category(ch)[0] == "Z" else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(name.split()).strip(" .")
    if not name:
        name = f"evidence{extension}"
    if len(name) > NAME_MAX:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and 0 < len(suffix) <= 10:
            name = stem[: NAME_MAX - len(suffix) - 1].rstrip(" .") + "." + suffix
        else:
            name = name[:NAME_MAX].rstrip(" .")
    return name


def download_name(display_name: str, content_type: str) -> str:
    """The name a download is saved under: the display name, ending in the extension of
    what the file really is (so ``notes.html`` holding a PDF saves as ``notes.html.pdf``)."""
    extension = EXTENSION_BY_CONTENT_TYPE.get(content_type, "")
    name = clean_name(display_name, extension)
    lowered = name.lower()
    aliases = {".jpg": (".jpg", ".jpeg")}.get(extension, (extension,))
    if extension and not lowered.endswith(aliases):
        name = clean_name(name[: NAME_MAX - len(extension)] + extension)
    return name


# --- image metadata ------------------------------------------------------------------------

# JPEG segments that hold EXIF, XMP, IPTC or Photoshop data, and comments. Kept: APP0
# (JFIF), APP2 (the colour profile) and APP14 (Adobe colour transform), which the picture
# needs to look right.
_JPEG_DROP = {0xE1, *range(0xE3, 0xEE), 0xEF, 0xFE}
# PNG chunks with text, EXIF or a modification time.
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def strip_metadata(kind: str, data: bytes) -> bytes:
    """``data`` without its metadata blocks, for JPEG and PNG; other kinds unchanged.

    A file whose structure cannot be walked is returned unchanged: it was already accepted
    by its signature, and a browser or viewer decides what it can show.
    """
    try:
        if kind == "jpeg":
            return _strip_jpeg(data)
        if kind == "png":
            return _strip_png(data)
        if kind == "webp":
            return _strip_webp(data)
    except (IndexError, struct.error, ValueError):
        return data
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("not at a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan: the rest is image data
            out += data[pos:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[pos : pos + 2]
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ValueError("bad segment length")
        if marker not in _JPEG_DROP:
            out += data[pos : pos + 2 + length]
        pos += 2 + length
    raise ValueError("no image data")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("bad chunk length")
        if chunk_type not in _PNG_DROP:
            out += data[pos:end]
        pos = end
        if chunk_type == b"IEND":
            return bytes(out)
    raise ValueError("no end chunk")


def _strip_webp(data: bytes) -> bytes:
    """Drop the EXIF and XMP chunks of an extended WebP and clear their flags."""
    chunks: list[bytes] = []
    pos = 12
    while pos + 8 <= len(data):
        chunk_type = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + length + (length & 1)  # chunks are padded to an even size
        if pos + 8 + length > len(data):
            raise ValueError("bad chunk length")
        chunk = data[pos : min(end, len(data))]
        if chunk_type == b"VP8X" and length >= 1:
            flags = chunk[8] & ~0x0C  # the EXIF (0x08) and XMP (0x04) flags
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if chunk_type not in (b"EXIF", b"XMP "):
            chunks.append(chunk)
        pos = end
    if pos < len(data) - 1:
        raise ValueError("trailing bytes")
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
