"""The first worksheet of an XLSX workbook, read as rows of cells with flat memory. No Django.

Dependency-free on purpose (openpyxl is not installed, and a reader we own can refuse what
an extract must never contain): the workbook is a ZIP of XML parts, read with ``zipfile`` and
``xml.etree.ElementTree.iterparse`` so only one row is held at a time. Shared strings go to
an on-disk index (offsets + UTF-8 data, memory-mapped), so a sheet of millions of distinct
ids does not fill memory either.

Defences, each a clear ``XlsxError``:

* zip bombs: too many entries, an entry expanding more than ``Limits.max_ratio`` times, more
  than ``Limits.max_total`` bytes uncompressed in all (also counted while reading, not only
  from the declared sizes);
* encrypted or damaged archives (a truncated upload has no central directory);
* XML with a document type declaration (entity expansion; Excel never writes one).

Speed: the worksheet and the shared strings are scanned in decoded chunks with
precompiled regular expressions for the shapes Excel and most exporters write (``<row>``,
``<c r= s= t=>`` with ``<v>`` or ``<is><t>``, ``<si><t>``). Anything else (other attributes,
rich text, formulas, whitespace between elements, comments ...) is read by ElementTree: one
row or one shared string at a time, or, when the XML is damaged or unusual, the whole part
again from its start (the rows already given are skipped), so every path gives exactly what
ElementTree would. The part's head (up to ``<sheetData>``) and tail are always checked by an
XML pull parser, and the scanner itself only accepts well-formed text (valid references, no
control characters), so a damaged part is still refused with ElementTree's own message.

Cells come back raw (``Cell``); ``cell_text`` turns one into the text the canonical CSV
wants: formulas and error values are refused, Excel serial dates become ISO 8601 (1900
system with its phantom 1900-02-29, or the 1904 system named in workbook.xml), booleans
become ``true``/``false``, whole numbers lose their ``.0``.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import math
import mmap
import posixpath
import re
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.etree import ElementTree as ET

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE_DOCUMENT = "/officeDocument"
# Built-in number formats that display a date or time (ECMA-376 18.8.30, plus the East Asian
# date formats Excel maps to ids 27-36 and 50-58).
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31 in the 1900 system
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


@dataclass(frozen=True)
class Limits:
    max_entries: int = 1000
    max_ratio: float = 200.0  # uncompressed / compressed, for entries over ``ratio_floor``
    ratio_floor: int = 1 << 20
    max_total: int = 4 << 30  # bytes uncompressed, all parts read together
    max_cell_chars: int = 32767  # Excel's own limit for a cell
    max_columns: int = 16384  # Excel's last column, XFD


class XlsxError(Exception):
    """The workbook cannot be read (structure, limits, safety); nothing of it is used."""


class CellError(ValueError):
    """One cell cannot become a canonical value (formula, error value, impossible date)."""


class Cell(NamedTuple):
    # A named tuple, not a dataclass: a sheet has millions of cells and a tuple is built in C.
    ref: str  # "B7"
    column: int  # 0-based
    kind: str  # text | number | bool | date | error | empty | invalid
    value: str  # text, number text, "1"/"0", ISO date text, error code, or why invalid
    formula: str | None = None
    date_style: bool = False


_new_cell = tuple.__new__  # _new_cell(Cell, (ref, column, kind, value, formula, date_style))


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Guarded:
    """A part's byte stream that counts bytes against the workbook total and refuses DTDs."""

    _MARKERS = (b"<!DOCTYPE", b"<!ENTITY")

    def __init__(self, raw: IO[bytes], book: Workbook, name: str) -> None:
        self.raw = raw
        self.book = book
        self.name = name
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size and size > 0 else 1 << 16)
        if not data:
            return data
        self.book.count(len(data), self.name)
        window = self.tail + data
        for marker in self._MARKERS:
            if marker in window:
                raise XlsxError(
                    f"{self.name}: XML with a document type or entity declaration is refused "
                    "(Excel never writes one)"
                )
        self.tail = window[-16:]
        return data


class _Fallback(Exception):
    """The fast scanner met something it does not handle: ElementTree reads it instead."""


# -- the fast scanner --------------------------------------------------------------------------
# Only exact, common shapes are matched; every other byte sequence lands in a "junk" group,
# which sends the row (or the whole part) to ElementTree. Attributes must come in Excel's
# order (r, s, t) with double quotes; values must be non-empty (an empty <v></v> differs
# from no <v> for shared strings, so it goes the slow way).
_SHEET_DATA = re.compile(r"<sheetData[ \t\r\n]*>")
_SST_OPEN = re.compile(r"<sst\b[^<>]*>")
# Possessive quantifiers (the next character never belongs to the part just matched, so
# nothing is lost by not backtracking): a quarter faster than plain ones.
_CELL = (  # 1-2 reference, 3 style, 4 type, 5 <v>, 6 <is><t>
    r'<c(?: r="([A-Z]{1,3}+)([0-9]++)")?+(?: s="([0-9]++)")?+(?: t="([A-Za-z]++)")?+'
    r'(?:/>|>(?:<v>([^<]++)</v>|<is><t(?: xml:space="preserve")?+>([^<]++)</t></is>)?+</c>)'
)
# One pass over a region: cells, and in group 7 everything else (a row's start or end tag,
# whitespace, or one character of anything the pass does not read).
_TOKENS = re.compile(_CELL + r'|(<row(?: r="[0-9]+")?[^<>]*?/?>|</row>|[ \t\r\n]+|[\s\S])')
_ROW_HEAD = re.compile(r'<row(?: r="([0-9]+)")?([^<>]*?)(/?)>')
# Row by row, when the one pass met something it does not read.
_ROWS = re.compile(
    # 1 r, 2 the other attributes, 3 the body (up to the first "</row>")
    r'<row(?: r="([0-9]+)")?([^<>]*?)(?:/>|>([^<]*(?:<(?!/row>)[^<]*)*)</row>)'
    r"|([ \t\r\n]+)"  # 4 whitespace between rows
    r"|([\s\S])"  # 5 anything else
)
_SIS = re.compile(
    r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>|<si><t(?: xml:space="preserve")?/></si>'
    r"|(<si\b[^<>]*/>|<si\b[^<>]*>[^<]*(?:<(?!/si>)[^<]*)*</si>)"  # 2 anything richer: ET
    r"|([ \t\r\n]+)"  # 3 whitespace between items
    r"|([\s\S])"  # 4 anything else
)
_NAME = r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?"
_ATTRS = re.compile(rf"""(?:[ \t\r\n]+{_NAME}[ \t\r\n]*=[ \t\r\n]*(?:"[^"<&]*"|'[^'<&]*'))*"""
                    r"[ \t\r\n]*")  # fmt: skip
_ATTR_NAME = re.compile(rf"({_NAME})[ \t\r\n]*=")
_SHARED_CACHE = 1 << 12  # decoded shared strings kept per workbook (memory stays flat)
# Characters XML allows nowhere (expat refuses them): C0 controls but tab, LF, CR, and
# U+FFFE / U+FFFF (UTF-8 EF BF BE / EF BF BF). "]]>" is refused outside CDATA.
_CONTROL = bytes(range(32)).translate(None, b"\t\n\r")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));|&")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']"""
)


class _Slow(Exception):
    """The one-pass scanner met something it does not read: the region goes row by row."""


def _outside_a_row(cell: Cell) -> None:
    raise _Slow  # a cell before any row, or after its end tag


def _plain_attributes(rest: str, prefixes: set[str]) -> bool:
    """Whether a row's attributes other than a leading ``r`` are well-formed and ignorable."""
    if not _ATTRS.fullmatch(rest):
        return False
    names = _ATTR_NAME.findall(rest)
    if len(set(names)) != len(names):
        return False
    for name in names:
        if name == "r" or name.startswith("xmlns"):
            return False
        if ":" in name and name.split(":", 1)[0] not in prefixes:
            return False
    return True


def _xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _reference(match: re.Match[str]) -> str:
    name, decimal, hexa = match.groups()
    if name:
        return _NAMED[name]
    if decimal or hexa:
        code = int(decimal, 10) if decimal else int(hexa, 16)
        if _xml_char(code):
            return chr(code)
    raise _Fallback  # a bare "&" or a reference to a character XML forbids: ET's error


def _xml_text(raw: str) -> str:
    """Character data as an XML parser reports it: line ends normalised, references replaced."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in raw:
        raw = _REFERENCE.sub(_reference, raw)
    return raw


class _Scan:
    """A part in decoded chunks: head checked by a pull parser up to a container's start tag,
    then regions of whole items for a regular-expression scanner, then the tail checked.

    Raises ``_Fallback`` for whatever it cannot vouch for (other encodings, bytes that are
    not UTF-8, characters XML forbids, a head or tail that does not parse).
    """

    CHUNK = 1 << 14  # small regions: their cells stay in the CPU cache and young for the GC
    MAX_HEAD = 16 << 20

    def __init__(self, stream: _Guarded, item: str) -> None:
        self.stream = stream
        self.item = item  # "<row": where a region may be cut
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.parser = ET.XMLPullParser(events=("start", "end", "start-ns"))
        self.eof = False
        self.first = True
        self.buf = ""
        self.last = ""  # the end of the previous chunk, for a "]]>" split across two
        self.last_bytes = b""
        self.wrap_open = "<w>"
        self.wrap_close = "</w>"
        self.prefixes: set[str] = {"xml"}

    def _read(self) -> str:
        if self.eof:
            return ""
        try:
            data = self.stream.read(self.CHUNK)
        except XlsxError:
            raise
        except Exception:  # damaged data: ElementTree's path reports it in its own words
            raise _Fallback from None
        if self.first:
            self.first = False
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise _Fallback  # UTF-16
            declared = _DECLARED_ENCODING.match(data)
            if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
                raise _Fallback
        if len(data.translate(None, _CONTROL)) != len(data):
            raise _Fallback
        if not data.isascii():
            joined = self.last_bytes + data
            if b"\xef\xbf\xbe" in joined or b"\xef\xbf\xbf" in joined:
                raise _Fallback
        self.last_bytes = data[-2:]
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise _Fallback from None
        if not data:
            self.eof = True
        if "]]>" in self.last + text:
            raise _Fallback
        self.last = text[-2:]
        return text

    def _feed(self, text: str) -> list[Any]:
        try:
            self.parser.feed(text)
            return list(self.parser.read_events())
        except ET.ParseError:
            raise _Fallback from None

    def head(self, container: re.Pattern[str], local: str, depth: int) -> None:
        """Read up to the container's start tag; its namespaces make the ET wrapper."""
        while (match := container.search(self.buf)) is None:
            if self.eof or len(self.buf) > self.MAX_HEAD:
                raise _Fallback
            self.buf += self._read()
        head, self.buf = self.buf[: match.end()], self.buf[match.end() :]
        stack: list[list[tuple[str, str]]] = []
        pending: list[tuple[str, str]] = []
        events = self._feed(head)
        for event, value in events:
            if event == "start-ns":
                pending.append(value)
            elif event == "start":
                stack.append(pending)
                pending = []
            else:
                stack.pop()
        event, elem = events[-1] if events else ("", None)
        if event != "start" or _local(getattr(elem, "tag", "")) != local or len(stack) != depth:
            raise _Fallback  # the match was in a comment, or the part is not shaped as usual
        declared: dict[str, str] = {}
        for scope in stack:
            declared.update(scope)
        self.prefixes |= {p for p in declared if p}
        attrs = "".join(
            f' xmlns{":" + p if p else ""}="{_attr_escape(uri)}"' for p, uri in declared.items()
        )
        self.wrap_open = f"<w{attrs}>"

    def regions(self) -> Iterator[tuple[str, int]]:
        """(buffer, end): ``buffer[:end]`` holds whole items (or the rest, at the end)."""
        while True:
            self.buf += self._read()
            if self.eof:
                yield self.buf, len(self.buf)
                raise _Fallback  # the scanner never met the end tag: truncated or odd
            cut = self.buf.rfind(self.item)
            if cut > 0:
                yield self.buf, cut
                self.buf = self.buf[cut:]

    def finish(self, buf: str, at: int) -> None:
        """Check the tail from ``buf[at:]`` (the container's end tag) to the end of the part."""
        self._feed(buf[at:])
        while not self.eof:
            self._feed(self._read())
        try:
            self.parser.close()
        except ET.ParseError:
            raise _Fallback from None

    def fragment(self, text: str) -> Any:
        """One element's text parsed by ElementTree, in the container's namespaces."""
        try:
            # Text that passed _Guarded (no DTD, so no entity expansion).
            wrapper = ET.fromstring(self.wrap_open + text + self.wrap_close)  # noqa: S314
        except ET.ParseError:
            raise _Fallback from None
        if len(wrapper) != 1:
            raise _Fallback
        return wrapper[0]


def _attr_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


class _SharedStrings:
    """Shared strings on disk: ``sst.idx`` (native uint64 start offsets) and ``sst.bin`` (UTF-8).

    Private to one process (written and read by it), hence native byte order, which lets the
    index be read as a memoryview of integers.
    """

    def __init__(self, workdir: Path) -> None:
        self.idx_path = workdir / "sst.idx"
        self.bin_path = workdir / "sst.bin"
        self.count = 0
        self._idx: mmap.mmap | None = None
        self._bin: mmap.mmap | None = None
        self._offsets: memoryview | None = None
        self._files: list[IO[bytes]] = []

    def build(self, batches: Iterator[list[str]]) -> None:
        """Index the strings, given in batches (a region of the part at a time)."""
        offset = 0
        with self.idx_path.open("wb") as idx, self.bin_path.open("wb") as out:
            for texts in batches:
                encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
                offsets = array("Q", accumulate(map(len, encoded), initial=offset))
                offset = offsets.pop()  # the next batch's first offset
                offsets.tofile(idx)
                out.write(b"".join(encoded))
                self.count += len(encoded)
            array("Q", [offset]).tofile(idx)
        if self.count:
            for path in (self.idx_path, self.bin_path):
                handle = path.open("rb")
                self._files.append(handle)
            self._idx = mmap.mmap(self._files[0].fileno(), 0, access=mmap.ACCESS_READ)
            self._offsets = memoryview(self._idx).cast("Q")
            if offset:
                self._bin = mmap.mmap(self._files[1].fileno(), 0, access=mmap.ACCESS_READ)

    def get(self, index: int) -> str:
        if not 0 <= index < self.count or self._offsets is None:
            raise CellError(f"shared string {index} does not exist (damaged workbook)")
        start, end = self._offsets[index], self._offsets[index + 1]
        if start == end or self._bin is None:
            return ""
        return self._bin[start:end].decode("utf-8", "surrogatepass")

    def close(self) -> None:
        if self._offsets is not None:
            self._offsets.release()  # an exported buffer would keep the mmap from closing
            self._offsets = None
        for m in (self._idx, self._bin):
            if m is not None:
                m.close()
        for handle in self._files:
            handle.close()


@dataclass
class Workbook:
    """An open workbook: ``with Workbook(path, workdir) as book: for row in book.rows(): ...``"""

    path: Path
    workdir: Path
    limits: Limits = field(default_factory=Limits)
    date1904: bool = False
    sheet_name: str = ""
    read_bytes: int = 0

    def __post_init__(self) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._strings = _SharedStrings(self.workdir)
        self._date_styles: list[bool] = []
        self._sheet_part = ""
        self._column_cache: dict[str, int] = {}
        self._style_cache: dict[str, bool] = {}
        self._plain_cache: dict[str, bool] = {}  # a row's other attributes -> plain enough
        # <v> text of a shared-string cell -> the string: sheets repeat clinic ids, statuses...
        self._shared_cache: dict[str, str] = {}

    # -- opening ---------------------------------------------------------------------------

    def __enter__(self) -> Workbook:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise XlsxError(
                "not a complete XLSX workbook: the ZIP directory is missing "
                "(truncated upload or damaged file)"
            ) from None
        except OSError as exc:
            raise XlsxError(f"cannot open the workbook: {exc.strerror or exc}") from None
        try:
            self._check_archive()
            self._read_structure()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._strings.close()
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    @property
    def archive(self) -> zipfile.ZipFile:
        if self._zip is None:
            raise XlsxError("the workbook is not open")
        return self._zip

    def count(self, n: int, name: str) -> None:
        self.read_bytes += n
        if self.read_bytes > self.limits.max_total:
            raise XlsxError(
                f"{name}: the workbook expands beyond {self.limits.max_total:,} bytes (zip bomb?)"
            )

    def _check_archive(self) -> None:
        infos = self.archive.infolist()
        lim = self.limits
        if len(infos) > lim.max_entries:
            raise XlsxError(f"the workbook has {len(infos):,} parts (over {lim.max_entries:,})")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise XlsxError("the workbook is encrypted: save it without a password")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > lim.ratio_floor and ratio > lim.max_ratio:
                raise XlsxError(
                    f"{info.filename}: expands {ratio:,.0f} times "
                    f"({info.compress_size:,} to {info.file_size:,} bytes): refused as a "
                    f"zip bomb (limit {lim.max_ratio:,.0f} times)"
                )
        if total > lim.max_total:
            raise XlsxError(
                f"the workbook would expand to {total:,} bytes (limit {lim.max_total:,}): "
                "refused as a zip bomb"
            )

    @contextlib.contextmanager
    def _open(self, name: str) -> Iterator[_Guarded]:
        try:
            raw = self.archive.open(name)
        except KeyError:
            raise XlsxError(f"the workbook has no part {name}") from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise XlsxError(f"{name}: cannot be read ({exc})") from None
        try:
            yield _Guarded(raw, self, name)
        finally:
            raw.close()

    def _iterparse(self, name: str, events: tuple[str, ...] = ("end",)) -> Iterator[Any]:
        try:
            with self._open(name) as stream:
                # DTDs (entity expansion) are refused by _Guarded before expat sees them.
                yield from ET.iterparse(stream, events=events)  # noqa: S314
        except ET.ParseError as exc:
            line, col = getattr(exc, "position", (0, 0))
            raise XlsxError(
                f"{name}: damaged XML at line {line}, column {col} (truncated or corrupt part)"
            ) from None
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise XlsxError(f"{name}: damaged or truncated part ({exc})") from None
        except Exception as exc:  # zlib.error and friends: damaged compressed data
            if isinstance(exc, XlsxError | CellError):
                raise
            raise XlsxError(f"{name}: damaged compressed data ({type(exc).__name__})") from None

    def _names(self) -> set[str]:
        return set(self.archive.namelist())

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, resolved target part) of ``part``."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name not in self._names():
            return {}
        out = {}
        for _event, elem in self._iterparse(rels_name):
            if _local(elem.tag) == "Relationship":
                target = elem.get("Target", "")
                if elem.get("TargetMode") == "External":
                    continue
                if target.startswith("/"):
                    resolved = target.lstrip("/")
                else:
                    resolved = posixpath.normpath(posixpath.join(folder, target))
                out[elem.get("Id", "")] = (elem.get("Type", ""), resolved)
        return out

    def _read_structure(self) -> None:
        names = self._names()
        workbook = "xl/workbook.xml"
        for rel_type, target in self._rels("").values():
            if rel_type.endswith(OFFICE_DOCUMENT):
                workbook = target
        if workbook not in names:
            raise XlsxError("not an XLSX workbook: no xl/workbook.xml part")
        first_sheet_rid = ""
        for _event, elem in self._iterparse(workbook):
            tag = _local(elem.tag)
            if tag == "workbookPr":
                self.date1904 = elem.get("date1904", "false").lower() in ("1", "true")
            elif tag == "sheet" and not first_sheet_rid:
                first_sheet_rid = elem.get(f"{{{REL_NS}}}id") or elem.get(
                    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id", ""
                )
                self.sheet_name = elem.get("name", "")
        rels = self._rels(workbook)
        if not first_sheet_rid or first_sheet_rid not in rels:
            raise XlsxError("the workbook lists no worksheet")
        self._sheet_part = rels[first_sheet_rid][1]
        if self._sheet_part not in names:
            raise XlsxError(f"the first worksheet's part {self._sheet_part} is missing")
        for rel_type, target in rels.values():
            if rel_type.endswith("/styles") and target in names:
                self._read_styles(target)
            elif rel_type.endswith("/sharedStrings") and target in names:
                try:
                    self._strings.build(self._iter_shared(target))
                except CellError as exc:
                    raise XlsxError(f"{target}: {exc}") from None

    def _read_styles(self, part: str) -> None:
        custom: dict[int, bool] = {}
        in_xfs = False
        for event, elem in self._iterparse(part, events=("start", "end")):
            tag = _local(elem.tag)
            if event == "start":
                if tag == "cellXfs":
                    in_xfs = True
                continue
            if tag == "numFmt":
                with contextlib.suppress(ValueError):
                    custom[int(elem.get("numFmtId", "-1"))] = is_date_format(
                        elem.get("formatCode", "")
                    )
            elif tag == "xf" and in_xfs:
                try:
                    fmt = int(elem.get("numFmtId", "0"))
                except ValueError:
                    fmt = 0
                self._date_styles.append(custom.get(fmt, fmt in BUILTIN_DATE_FORMATS))
            elif tag == "cellXfs":
                in_xfs = False

    def _iter_shared(self, part: str) -> Iterator[list[str]]:
        """The shared strings in batches: the fast scanner's, or ElementTree's after it."""
        done, read_before = 0, self.read_bytes
        try:
            for texts in self._iter_shared_fast(part):
                yield texts
                done += len(texts)
            return
        except _Fallback:
            pass
        self.read_bytes = read_before  # the part is read again from its start
        batch: list[str] = []
        for i, text in enumerate(self._iter_shared_et(part)):
            if i >= done:
                batch.append(text)
                if len(batch) >= 1024:
                    yield batch
                    batch = []
        yield batch

    def _iter_shared_fast(self, part: str) -> Iterator[list[str]]:
        limit = self.limits.max_cell_chars
        with self._open(part) as stream:
            scan = _Scan(stream, "<si")
            scan.head(_SST_OPEN, "sst", 1)
            for buf, end in scan.regions():
                stop = buf.find("</sst", 0, end)
                texts: list[str] = []
                for text, rich, space, junk in _SIS.findall(buf, 0, end if stop < 0 else stop):
                    if junk:
                        raise _Fallback
                    if space:
                        continue
                    if rich:
                        texts.append(self._rich_text(scan.fragment(rich)))
                        continue
                    if "&" in text or "\r" in text:
                        text = _xml_text(text)
                    if len(text) > limit:
                        raise CellError(
                            f"a text of {len(text):,} characters (Excel's limit is 32,767)"
                        )
                    texts.append(text)
                yield texts
                if stop >= 0:
                    scan.finish(buf, stop)
                    return

    def _iter_shared_et(self, part: str) -> Iterator[str]:
        root = None
        for event, elem in self._iterparse(part, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                continue
            if _local(elem.tag) == "si":
                yield self._rich_text(elem)
                if root is not None:
                    root.clear()

    def _rich_text(self, elem: Any) -> str:
        """Text of an ``si`` / ``is`` element: its ``t`` runs, not the phonetic ``rPh``."""
        parts: list[str] = []
        for child in elem:
            tag = _local(child.tag)
            if tag == "t":
                parts.append(child.text or "")
            elif tag == "r":
                parts.extend(run.text or "" for run in child if _local(run.tag) == "t")
        text = "".join(parts)
        if len(text) > self.limits.max_cell_chars:
            raise CellError(f"a text of {len(text):,} characters (Excel's limit is 32,767)")
        return text

    # -- rows ------------------------------------------------------------------------------

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, cells) for each row with at least one cell, in sheet order.

        A cell that cannot be read at all comes back with kind ``invalid`` and the reason.
        The fast scanner reads the sheet; if it meets anything it does not vouch for (damaged
        XML, a bad cell reference ...), ElementTree reads the part again from its start and,
        after the rows already given, gives the rest or raises the error it finds.
        """
        yield from _in_sheet_order(self._rows_either_way())

    def _rows_either_way(self) -> Iterator[tuple[int, list[Cell]]]:
        done, read_before = 0, self.read_bytes
        try:
            for item in self._rows_fast():
                yield item
                done += 1
            return
        except _Fallback:
            pass
        self.read_bytes = read_before  # the part is read again: count its bytes once
        for i, item in enumerate(self._rows_et()):
            if i >= done:
                yield item

    def _rows_fast(self) -> Iterator[tuple[int, list[Cell]]]:
        with self._open(self._sheet_part) as stream:
            scan = _Scan(stream, "<row")
            scan.head(_SHEET_DATA, "sheetData", 2)
            number = 0
            for buf, end in scan.regions():
                stop = buf.find("</sheetData", 0, end)
                limit = end if stop < 0 else stop
                try:
                    batch, after = self._plain_rows(buf, limit, number, scan.prefixes)
                except _Slow:
                    batch, after = self._rows_one_by_one(buf, limit, number, scan)
                number = after
                yield from batch
                if stop >= 0:
                    scan.finish(buf, stop)
                    return

    def _rows_one_by_one(
        self, buf: str, limit: int, number: int, scan: _Scan
    ) -> tuple[list[tuple[int, list[Cell]]], int]:
        """A region row by row: the one pass where it can, ElementTree for the other rows."""
        batch: list[tuple[int, list[Cell]]] = []
        for r, rest, body, space, junk in _ROWS.findall(buf, 0, limit):
            if junk:
                raise _Fallback  # not rows: a comment, damage ... ET reads the part
            if space:
                continue
            head = f' r="{r}"' if r else ""
            text = f"<row{head}{rest}>{body}</row>"
            try:
                rows, number = self._plain_rows(text, len(text), number, scan.prefixes)
                batch.extend(rows)
                continue
            except _Slow:
                pass
            elem = scan.fragment(text)
            try:
                number = int(elem.get("r") or number + 1)
                cells = self._cells(elem, number)
            except (ValueError, XlsxError):
                raise _Fallback from None  # ET's path raises it, after the rows before it
            if cells:
                batch.append((number, cells))
        return batch, number

    def _plain_rows(
        self, buf: str, limit: int, number: int, prefixes: set[str]
    ) -> tuple[list[tuple[int, list[Cell]]], int]:
        """Whole rows in ``buf[:limit]`` in one pass; ``_Slow`` if anything is not plain.

        The hot loop of the reader: one tuple per cell from ``findall`` and as little work
        per cell as the cell's type allows.
        """
        new, cell_type = _new_cell, Cell  # locals: the loop below runs once per cell
        columns = self._column_cache
        styles = self._style_cache
        plain = self._plain_cache
        get_string = self._strings.get
        shared = self._shared_cache
        max_chars = self.limits.max_cell_chars
        max_columns = self.limits.max_columns
        batch: list[tuple[int, list[Cell]]] = []
        cells: list[Cell] | None = None
        append: Callable[[Cell], None] = _outside_a_row  # each open row's list.append
        escaped = buf.find("&", 0, limit) >= 0 or buf.find("\r", 0, limit) >= 0
        row_text = ""
        position = -1
        for letters, digits, s, t, v, inline, other in _TOKENS.findall(buf, 0, limit):
            if other:
                if other == "</row>":
                    if cells is None:
                        raise _Slow
                    if cells:
                        batch.append((number, cells))
                    cells = None
                    append = _outside_a_row
                    continue
                if other[:4] == "<row":
                    head = _ROW_HEAD.fullmatch(other)
                    if cells is not None or head is None:
                        raise _Slow
                    r, rest, closed = head.groups()
                    if rest:
                        ok = plain.get(rest)
                        if ok is None:
                            ok = plain[rest] = _plain_attributes(rest, prefixes)
                        if not ok:
                            raise _Slow
                    number = int(r) if r else number + 1
                    if not closed:
                        cells = []
                        append = cells.append
                        row_text = str(number)
                        position = -1
                    continue
                if other.isspace():
                    continue  # between rows or cells: ElementTree ignores it too
                raise _Slow
            if letters:
                if digits != row_text and int(digits) != number:
                    raise _Fallback  # ET's path raises "bad cell reference" in order
                try:
                    position = columns[letters]
                except KeyError:
                    position = self._column(letters)
                ref = letters + digits
            else:
                position += 1
                if position >= max_columns:
                    raise _Fallback  # ET's path raises "beyond Excel's last column"
                ref = column_letters(position) + row_text
            if t == "s":
                if not v:
                    continue
                if escaped:
                    v = _xml_text(v)
                text = shared.get(v)
                if text is None:
                    try:
                        text = get_string(int(v))  # CellError is a ValueError: caught first
                    except CellError as exc:
                        append(new(cell_type, (ref, position, "invalid", str(exc), None, False)))
                        continue
                    except ValueError:
                        reason = f"bad shared string index {v!r}"
                        append(new(cell_type, (ref, position, "invalid", reason, None, False)))
                        continue
                    if len(shared) >= _SHARED_CACHE:
                        shared.clear()  # crude but bounded: the frequent ones return at once
                    shared[v] = text
                if text:
                    append(new(cell_type, (ref, position, "text", text, None, False)))
            elif t == "inlineStr":
                if not inline:
                    continue
                if escaped:
                    inline = _xml_text(inline)
                if len(inline) > max_chars:
                    reason = f"a text of {len(inline):,} characters (Excel's limit is 32,767)"
                    append(new(cell_type, (ref, position, "invalid", reason, None, False)))
                else:
                    append(new(cell_type, (ref, position, "text", inline, None, False)))
            elif not v:
                continue
            else:
                if escaped:
                    v = _xml_text(v)
                if t in ("str", "b", "e", "d"):
                    if t == "str":
                        append(new(cell_type, (ref, position, "text", v, None, False)))
                    elif t == "b":
                        flag = "1" if v.strip() == "1" else "0"
                        append(new(cell_type, (ref, position, "bool", flag, None, False)))
                    elif t == "e":
                        append(new(cell_type, (ref, position, "error", v, None, False)))
                    else:
                        append(new(cell_type, (ref, position, "date", v.strip(), None, False)))
                elif len(v) > max_chars:  # "n", no type or any other: a number, as in ET's path
                    reason = "an over-long number"
                    append(new(cell_type, (ref, position, "invalid", reason, None, False)))
                else:
                    date_style = styles.get(s)
                    if date_style is None:  # no s attribute is style 0, which may be a date
                        date_style = self._date_style(s)
                    value = v.strip()
                    append(new(cell_type, (ref, position, "number", value, None, date_style)))
        if cells is not None:
            raise _Slow  # a row without its end tag: cut short
        return batch, number

    def _date_style(self, s: str) -> bool:
        index = int(s) if s else 0
        date_style = index < len(self._date_styles) and self._date_styles[index]
        self._style_cache[s] = date_style
        return date_style

    def _column(self, letters: str) -> int:
        position = _column_index(letters)
        if position >= self.limits.max_columns:
            raise _Fallback  # ET's path raises "beyond Excel's last column" in order
        self._column_cache[letters] = position
        return position

    def _rows_et(self) -> Iterator[tuple[int, list[Cell]]]:
        """The plain ElementTree reading of the sheet (the fallback, and the tests' oracle)."""
        sheet_data = None
        row_number = 0
        for event, elem in self._iterparse(self._sheet_part, events=("start", "end")):
            tag = _local(elem.tag)
            if event == "start":
                if tag == "sheetData":
                    sheet_data = elem
                continue
            if tag != "row":
                continue
            try:
                row_number = int(elem.get("r") or row_number + 1)
            except ValueError:
                raise XlsxError(f"row after {row_number}: bad row number") from None
            cells = self._cells(elem, row_number)
            if sheet_data is not None:
                sheet_data.clear()  # flat memory: the parsed rows are dropped
            if cells:
                yield row_number, cells

    def _cells(self, row: Any, row_number: int) -> list[Cell]:
        out: list[Cell] = []
        position = -1
        for c in row:
            if _local(c.tag) != "c":
                continue
            ref = c.get("r")
            if ref:
                match = _CELL_REF.match(ref)
                if not match or int(match.group(2)) != row_number:
                    raise XlsxError(f"row {row_number}: bad cell reference {ref!r}")
                position = _column_index(match.group(1))
            else:
                position += 1
                ref = f"{column_letters(position)}{row_number}"
            if position >= self.limits.max_columns:
                raise XlsxError(f"cell {ref}: beyond Excel's last column")
            try:
                cell = self._cell(c, ref, position)
            except CellError as exc:
                out.append(Cell(ref, position, "invalid", str(exc)))
                continue
            if cell.kind != "empty" or cell.formula is not None:
                out.append(cell)
        return out

    def _cell(self, c: Any, ref: str, position: int) -> Cell:
        kind_attr = c.get("t", "n")
        value: str | None = None
        formula: str | None = None
        inline = None
        for child in c:
            tag = _local(child.tag)
            if tag == "v":
                value = child.text or ""
            elif tag == "f":
                formula = child.text or ""
            elif tag == "is":
                inline = child
        try:
            style = int(c.get("s", "0"))
        except ValueError:
            style = 0
        date_style = 0 <= style < len(self._date_styles) and self._date_styles[style]
        if kind_attr == "inlineStr":
            text = self._rich_text(inline) if inline is not None else ""
            return Cell(ref, position, "text" if text else "empty", text, formula)
        if value is None or (value == "" and kind_attr not in ("s", "str")):
            return Cell(ref, position, "empty", "", formula)
        if kind_attr == "s":
            try:
                index = int(value)
            except ValueError:
                raise CellError(f"bad shared string index {value!r}") from None
            text = self._strings.get(index)
            return Cell(ref, position, "text" if text else "empty", text, formula)
        if kind_attr == "str":
            return Cell(ref, position, "text" if value else "empty", value, formula)
        if kind_attr == "b":
            return Cell(ref, position, "bool", "1" if value.strip() == "1" else "0", formula)
        if kind_attr == "e":
            return Cell(ref, position, "error", value, formula)
        if kind_attr == "d":
            return Cell(ref, position, "date", value.strip(), formula)
        if len(value) > self.limits.max_cell_chars:
            raise CellError("an over-long number")
        return Cell(ref, position, "number", value.strip(), formula, date_style)


def is_date_format(code: str) -> bool:
    """Whether a custom number format displays a date or time."""
    plain = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)  # quoted text, escapes, [Red], [$-409]
    plain = plain.split(";", 1)[0]
    return bool(re.search(r"[dmyhs]", plain, re.IGNORECASE)) and "General" not in plain


def serial_to_iso(serial: float, *, date1904: bool = False, with_time: bool | None = None) -> str:
    """An Excel serial date as ISO 8601: ``YYYY-MM-DD`` for a whole number, else with time.

    1900 system: serial 1 is 1900-01-01 and serial 60 the phantom 1900-02-29 Lotus 1-2-3
    invented (refused: that day never existed); from 61 on, days count from 1899-12-30.
    1904 system (Mac workbooks): serial 0 is 1904-01-01. Times round to the second.
    """
    if not math.isfinite(serial) or serial < 0:
        raise CellError(f"{serial!r} is not a date (a negative or endless serial number)")
    days = math.floor(serial)
    seconds = round((serial - days) * 86400)
    if seconds == 86400:
        days, seconds = days + 1, 0
    if days > MAX_EXCEL_SERIAL:
        raise CellError(f"serial {serial!r} is after 9999-12-31")
    if date1904:
        day = dt.date(1904, 1, 1) + dt.timedelta(days=days)
    else:
        if days == 0:
            raise CellError(
                f"serial {serial!r} is a time of day without a date (Excel's 1900-01-00)"
            )
        if days == 60:
            raise CellError(
                "serial 60 is 1900-02-29, a day that does not exist (Excel's 1900 leap-year bug)"
            )
        base = dt.date(1899, 12, 31) if days < 60 else dt.date(1899, 12, 30)
        day = base + dt.timedelta(days=days)
    if with_time is None:
        with_time = serial != days
    if not with_time:
        return day.isoformat()
    hours, rest = divmod(seconds, 3600)
    return f"{day.isoformat()}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def number_text(value: str) -> str:
    """A stored number as the text a person typed: 60 not 60.0; refuses inexact ids."""
    try:
        number = float(value)
    except ValueError:
        raise CellError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise CellError(f"{value!r} is not a finite number")
    if number.is_integer():
        if abs(number) >= 1e15:
            raise CellError(
                f"{value} has more digits than Excel keeps exactly (15): store ids as text"
            )
        return str(int(number))
    return repr(number)


def cell_text(cell: Cell, *, datetime_column: bool = False, date1904: bool = False) -> str:
    """The canonical text of a cell (see the module docstring); ``CellError`` if refused."""
    if cell.kind == "text" and cell.formula is None:  # most cells: first, and cheapest
        return cell.value
    if cell.formula is not None:
        raise CellError("holds a formula: formulas are refused (paste values only)")
    if cell.kind == "invalid":
        raise CellError(cell.value)
    if cell.kind == "error":
        raise CellError("holds an Excel error value (#N/A, #DIV/0! ...)")
    if cell.kind == "bool":
        return "true" if cell.value == "1" else "false"
    if cell.kind == "number":
        if datetime_column or cell.date_style:
            try:
                serial = float(cell.value)
            except ValueError:
                raise CellError(f"{cell.value!r} is not a number") from None
            return serial_to_iso(serial, date1904=date1904)
        return number_text(cell.value)
    return cell.value


MAX_SHEET_ROWS = 1_048_576  # Excel's limit


def _in_sheet_order(
    rows: Iterator[tuple[int, list[Cell]]],
) -> Iterator[tuple[int, list[Cell]]]:
    """``rows``, refused once a row number does not follow the one before or passes Excel's
    limit: a report names rows by number, and a second row 1 would be taken for the header
    (whose values are column names, shown unmasked)."""
    last = 0
    for number, cells in rows:
        if number <= last:
            raise XlsxError(f"row {number} after row {last}: the sheet's rows are out of order")
        if number > MAX_SHEET_ROWS:
            raise XlsxError(f"row {number:,}: past Excel's last row ({MAX_SHEET_ROWS:,})")
        last = number
        yield number, cells
