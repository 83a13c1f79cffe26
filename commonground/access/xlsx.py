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

Cells come back raw (``Cell``); ``cell_text`` turns one into the text the canonical CSV
wants: formulas and error values are refused, Excel serial dates become ISO 8601 (1900
system with its phantom 1900-02-29, or the 1904 system named in workbook.xml), booleans
become ``true``/``false``, whole numbers lose their ``.0``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import mmap
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
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


@dataclass(frozen=True)
class Cell:
    ref: str  # "B7"
    column: int  # 0-based
    kind: str  # text | number | bool | date | error | empty | invalid
    value: str  # text, number text, "1"/"0", ISO date text, error code, or why invalid
    formula: str | None = None
    date_style: bool = False


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


class _SharedStrings:
    """Shared strings on disk: ``sst.idx`` (uint64 start offsets) and ``sst.bin`` (UTF-8)."""

    def __init__(self, workdir: Path) -> None:
        self.idx_path = workdir / "sst.idx"
        self.bin_path = workdir / "sst.bin"
        self.count = 0
        self._idx: mmap.mmap | None = None
        self._bin: mmap.mmap | None = None
        self._files: list[IO[bytes]] = []

    def build(self, items: Iterator[str]) -> None:
        offset = 0
        with self.idx_path.open("wb") as idx, self.bin_path.open("wb") as data:
            for text in items:
                raw = text.encode("utf-8", "surrogatepass")
                idx.write(struct.pack("<Q", offset))
                data.write(raw)
                offset += len(raw)
                self.count += 1
            idx.write(struct.pack("<Q", offset))
        if self.count:
            for path in (self.idx_path, self.bin_path):
                handle = path.open("rb")
                self._files.append(handle)
            self._idx = mmap.mmap(self._files[0].fileno(), 0, access=mmap.ACCESS_READ)
            if offset:
                self._bin = mmap.mmap(self._files[1].fileno(), 0, access=mmap.ACCESS_READ)

    def get(self, index: int) -> str:
        if not 0 <= index < self.count or self._idx is None:
            raise CellError(f"shared string {index} does not exist (damaged workbook)")
        start, end = struct.unpack_from("<QQ", self._idx, index * 8)
        if start == end or self._bin is None:
            return ""
        return self._bin[start:end].decode("utf-8", "surrogatepass")

    def close(self) -> None:
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

    def _iter_shared(self, part: str) -> Iterator[str]:
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
        """
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
