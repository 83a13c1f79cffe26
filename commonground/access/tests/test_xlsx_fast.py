"""The fast XLSX scanner gives exactly what a plain ElementTree reading of the same part gives.

``Workbook.rows()`` scans the worksheet with regular expressions (ElementTree only for rows or
parts it does not vouch for); ``Workbook._rows_et()`` is the straightforward ElementTree
reading it replaced, kept as the fallback and as the oracle here. Likewise for the shared
strings (``_iter_shared_fast`` / ``_iter_shared_et``).
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.access import readers, xlsx
from commonground.access.tests.helpers import SPEC_ROWS
from commonground.access.tests.xlsx_files import (
    MAIN,
    RELS,
    csv_to_xlsx_rows,
    write_raw_xlsx,
    write_xlsx,
)

X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
SHEET_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" '
    f'xmlns:r="{RELS}" xmlns:x14ac="{X14AC}"><dimension ref="A1:Z9"/><sheetViews><sheetView '
    'workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>'
)
SHEET_TAIL = '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'  # noqa: E501
SST_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}">'


def collect(items: Iterator[Any]) -> tuple[list[Any], str | None]:
    """Everything an iterator gives, and the XlsxError that stopped it (if one did)."""
    out: list[Any] = []
    try:
        for item in items:
            out.append(item)  # noqa: PERF402 - what came before an error is kept
    except xlsx.XlsxError as exc:
        return out, str(exc)
    return out, None


def both_ways(path: Path) -> tuple[tuple[list[Any], str | None], tuple[list[Any], str | None]]:
    with tempfile.TemporaryDirectory() as work, xlsx.Workbook(path, Path(work)) as book:
        return collect(book.rows()), collect(book._rows_et())


# -- generated sheets --------------------------------------------------------------------------

XML_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
)
SPECIAL = st.sampled_from(list("&<>\"'\t\n\r] aZ9é€\u00a0\U0001d11e"))
TEXTS = st.one_of(st.text(SPECIAL, max_size=12), st.text(XML_CHARS, max_size=12))


@st.composite
def xml_text(draw: st.DrawFn, text: str) -> str:
    """``text`` as XML character data, each special character escaped one of several ways."""
    out = []
    for ch in text:
        if ch == "&":
            out.append(draw(st.sampled_from(["&amp;", "&#38;", "&#x26;"])))
        elif ch == "<":
            out.append(draw(st.sampled_from(["&lt;", "&#60;"])))
        elif ch == ">":
            out.append(draw(st.sampled_from([">", "&gt;"])))
        elif ch == '"':
            out.append(draw(st.sampled_from(['"', "&quot;"])))
        elif ch == "'":
            out.append(draw(st.sampled_from(["'", "&apos;"])))
        elif ch == "\r":  # raw (an XML parser makes it \n) or as a reference (kept)
            out.append(draw(st.sampled_from(["\r", "&#13;", "&#xD;"])))
        elif ch == "]":  # "]]>" is not allowed in character data
            out.append("&#93;")
        elif ord(ch) > 127 and draw(st.booleans()):
            out.append(f"&#{ord(ch)};" if draw(st.booleans()) else f"&#x{ord(ch):X};")
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def t_element(draw: st.DrawFn) -> str:
    text = draw(TEXTS)
    if not text and draw(st.booleans()):
        return "<t/>"
    space = draw(st.sampled_from(["", ' xml:space="preserve"']))
    return f"<t{space}>{draw(xml_text(text))}</t>"


@st.composite
def rich_body(draw: st.DrawFn) -> str:
    """The inside of ``<is>`` / ``<si>``: one ``<t>``, or runs, perhaps with phonetic text."""
    shape = draw(st.sampled_from(["t", "t", "runs", "phonetic"]))
    if shape == "t":
        return draw(t_element())
    if shape == "runs":
        runs = draw(st.lists(t_element(), min_size=1, max_size=3))
        props = draw(st.sampled_from(["", '<rPr><b/><sz val="11"/></rPr>']))
        return "".join(f"<r>{props}{t}</r>" for t in runs)
    return f'{draw(t_element())}<rPh sb="0" eb="1"><t>ふりがな</t></rPh><phoneticPr fontId="1"/>'


NUMBERS = st.one_of(
    st.integers(-(10**16), 10**16).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(0, 2958465).map(repr),
    st.sampled_from([" 45 ", "1e3", "0.5", "-0", "45663.385416666664", "60"]),
)


@st.composite
def cell(draw: st.DrawFn, ref: str | None, shared_count: int) -> str:
    # Mostly what the one-pass scanner reads; now and then a cell ElementTree reads.
    kind = draw(
        st.sampled_from(
            ["inline"] * 4
            + ["shared"] * 4
            + ["number"] * 3
            + ["str"] * 2
            + ["bool", "error", "date", "empty", "formula", "rich", "reordered"]
        )
    )
    r = f' r="{ref}"' if ref else ""
    s = draw(st.sampled_from(["", "", ' s="0"', ' s="1"', ' s="2"', ' s="9"']))
    if kind == "inline":
        return f'<c{r}{s} t="inlineStr"><is>{draw(t_element())}</is></c>'
    if kind == "rich":
        return f'<c{r}{s} t="inlineStr"><is>{draw(rich_body())}</is></c>'
    if kind == "reordered":  # other attribute orders and quotes: ElementTree reads the row
        text = draw(xml_text(draw(TEXTS)))
        return f"<c t='inlineStr'{r}><is><t>{text}</t></is></c>"
    if kind == "shared":
        index = draw(st.integers(0, shared_count))  # shared_count itself does not exist
        return f'<c{r}{s} t="s"><v>{index}</v></c>'
    if kind == "number":
        t = draw(st.sampled_from(["", ' t="n"']))
        return f"<c{r}{s}{t}><v>{draw(NUMBERS)}</v></c>"
    if kind == "bool":
        return f'<c{r} t="b"><v>{draw(st.sampled_from(["0", "1", " 1"]))}</v></c>'
    if kind == "error":
        return f'<c{r} t="e"><v>{draw(st.sampled_from(["#N/A", "#DIV/0!", "#REF!"]))}</v></c>'
    if kind == "date":
        return f'<c{r}{s} t="d"><v>2025-01-06T09:15:00</v></c>'
    if kind == "str":
        return f'<c{r} t="str"><v>{draw(xml_text(draw(TEXTS)))}</v></c>'
    if kind == "formula":
        return f"<c{r}{s}><f>SUM(A1:A2)</f><v>3</v></c>"
    return draw(st.sampled_from([f"<c{r}/>", f"<c{r}{s}/>", f"<c{r}></c>"]))


@st.composite
def sheets(draw: st.DrawFn) -> tuple[str, str | None]:
    strings = draw(st.lists(rich_body(), max_size=6))
    sst = None
    if strings or draw(st.booleans()):
        sst = SST_HEAD + "".join(f"<si>{body}</si>" for body in strings) + "</sst>"
    gap = draw(st.sampled_from(["", "", "\n  "]))  # pretty-printed XML now and then
    rows = []
    number = 0
    for _ in range(draw(st.integers(0, 8))):
        number += draw(st.integers(1, 3))
        r = f' r="{number}"' if draw(st.integers(0, 4)) else ""
        if not r:
            number += 0  # no r: the row after the last one, whatever the draw above said
        attrs = draw(st.sampled_from(
            ["", ' spans="1:5"', ' spans="1:5" x14ac:dyDescent="0.25"', ' ht="20" customHeight="1"']
        ))  # fmt: skip
        if not draw(st.integers(0, 6)):
            rows.append(f"<row{r}{attrs}/>")
            continue
        cells = []
        column = -1
        for _ in range(draw(st.integers(0, 6))):
            step = draw(st.one_of(st.integers(1, 3), st.sampled_from([26, 700, 16_000])))
            if step == 1 and not draw(st.integers(0, 2)):
                column += 1
                cells.append(draw(cell(None, len(strings))))
                continue
            column += step
            row_ref = number if r else "{row}"
            if not draw(st.integers(0, 40)):
                row_ref = 99999  # a cell reference naming another row: refused
            cells.append(draw(cell(f"{xlsx.column_letters(column)}{row_ref}", len(strings))))
        rows.append(f"<row{r}{attrs}>{gap.join(cells)}</row>")
    # Rows without r take the number after the previous row's: fill in what they refer to.
    body, current = [], 0
    for row in rows:
        if row.startswith('<row r="'):
            current = int(row[8 : row.index('"', 8)])
        else:
            current += 1
        body.append(row.replace("{row}", str(current)))
    return SHEET_HEAD + gap.join(body) + gap + SHEET_TAIL, sst


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=sheets(), chunk=st.sampled_from([1, 2, 3, 5, 17, 64, 1 << 16]))
def test_the_fast_scanner_and_elementtree_read_the_same_cells(sheet, chunk):
    sheet_xml, sst_xml = sheet
    with tempfile.TemporaryDirectory() as tmp, patch.object(xlsx._Scan, "CHUNK", chunk):
        path = write_raw_xlsx(Path(tmp) / "g.xlsx", sheet_xml, sst_xml)
        work = Path(tmp) / "w"
        work.mkdir()
        with xlsx.Workbook(path, work) as book:
            fast, slow = collect(book.rows()), collect(book._rows_et())
            assert fast == slow
            if slow[1] is None:  # no part-wide fallback was needed for any of these shapes
                assert list(book._rows_fast()) == slow[0]
            if sst_xml is not None:
                part = "xl/sharedStrings.xml"
                fast_strings = [t for batch in book._iter_shared_fast(part) for t in batch]
                assert fast_strings == list(book._iter_shared_et(part))


# -- the shapes the scanner hands to ElementTree, and the defences -------------------------------


def sheet_of(*rows: str) -> str:
    return SHEET_HEAD + "".join(rows) + SHEET_TAIL


def test_a_plain_workbook_is_read_without_elementtree(tmp_path, monkeypatch):
    def refuse(self):
        raise AssertionError("the whole sheet went through ElementTree")

    monkeypatch.setattr(xlsx.Workbook, "_rows_et", refuse)
    monkeypatch.setattr(xlsx.Workbook, "_iter_shared_et", refuse)
    for inline in (False, True):
        book = write_xlsx(tmp_path / f"p{inline}.xlsx", csv_to_xlsx_rows(SPEC_ROWS), inline=inline)
        converted = readers.convert(book, tmp_path / f"w{inline}")
        assert not converted.problems and converted.counts["rows"] == 3


@pytest.mark.parametrize(
    "rows",
    [
        # a comment, a processing instruction and CDATA: ElementTree reads the part
        ('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><!-- </row> -->',
         '<row r="2"><c r="A2" t="inlineStr"><is><t>b</t></is></c></row>'),
        ('<row r="1"><?keep me?><c r="A1"><v>1</v></c></row>',),
        ('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x < y & z]]></t></is></c></row>',),
        # a namespace prefix on the cells
        (f'<row r="1" xmlns:m="{MAIN}"><m:c r="A1" t="inlineStr"><m:is><m:t>p</m:t></m:is>'
         "</m:c></row>",),
        # a row whose r comes after other attributes
        ('<row spans="1:2" r="4"><c r="B4"><v>2</v></c></row>',),
    ],
)  # fmt: skip
def test_unusual_xml_is_read_as_elementtree_reads_it(tmp_path, rows):
    fast, slow = both_ways(write_raw_xlsx(tmp_path / "u.xlsx", sheet_of(*rows)))
    assert fast == slow and slow[1] is None and slow[0]


@pytest.mark.parametrize("chunk", [3, 1 << 16])
@pytest.mark.parametrize(
    "damage",
    [
        lambda xml: xml[: xml.index('<row r="40"') + 40],  # truncated in a row
        lambda xml: xml.replace('<c r="B30"', '<c r="B31"', 1),  # a reference to another row
        lambda xml: xml.replace('<row r="35"', '<row r="x35"', 1),  # a bad row number
        lambda xml: xml.replace("</t></is></c></row>", "</t></is></row>", 1),  # mismatched tag
        lambda xml: xml.replace("text 33", "text \x01", 1),  # a control character
        lambda xml: xml.replace("text 33", "a & b", 1),  # a bare ampersand
        lambda xml: xml.replace("text 33", "&#0;", 1),  # a reference to NUL
        lambda xml: xml.replace("</worksheet>", "</worksheeet>"),  # a damaged tail
    ],
)
def test_damaged_sheets_fail_exactly_as_elementtree_fails(tmp_path, damage, chunk):
    rows = [
        f'<row r="{n}" spans="1:2"><c r="A{n}"><v>{n}</v></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>text {n}</t></is></c></row>'
        for n in range(1, 60)
    ]
    path = write_raw_xlsx(tmp_path / "d.xlsx", damage(sheet_of(*rows)))
    with patch.object(xlsx._Scan, "CHUNK", chunk):
        fast, slow = both_ways(path)
    assert slow[1] is not None
    assert fast == slow


def test_other_encodings_are_read_by_elementtree(tmp_path):
    row = '<row r="1"><c r="A1" t="inlineStr"><is><t>café</t></is></c></row>'
    latin = sheet_of(row).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    utf16 = sheet_of(row).replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    for i, data in enumerate((latin, utf16)):
        fast, slow = both_ways(write_raw_xlsx(tmp_path / f"e{i}.xlsx", data))
        assert fast == slow
        assert fast[0][0][1][0].value == "café"


@pytest.mark.parametrize("part", ["sheet", "shared"])
@pytest.mark.parametrize("marker", ["<!DOCTYPE x>", '<!ENTITY a "aaaa">'])
@pytest.mark.parametrize("chunk", [5, 1 << 16])
def test_a_dtd_anywhere_in_a_part_is_refused(tmp_path, part, marker, chunk):
    """Deep in the part, past many chunks (and split across two), still refused."""
    rows = [f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(1, 3000)]
    comment = f"<!-- {marker} -->"
    sheet = sheet_of(*rows[:2000], comment if part == "sheet" else "", *rows[2000:])
    shared = SST_HEAD + "<si><t>x</t></si>" * 2000
    shared += (comment if part == "shared" else "") + "<si><t>y</t></si></sst>"
    path = write_raw_xlsx(tmp_path / "dtd.xlsx", sheet, shared)
    with (
        patch.object(xlsx._Scan, "CHUNK", chunk),
        tempfile.TemporaryDirectory() as work,
        pytest.raises(xlsx.XlsxError, match="document type or entity declaration is refused"),
        xlsx.Workbook(path, Path(work)) as book,
    ):
        for _ in book.rows():
            pass


def test_a_sheet_read_twice_counts_its_bytes_once(tmp_path):
    """After a fallback the part is read again: the zip-bomb budget counts it once."""
    rows = [f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 500)]
    sheet = sheet_of(*rows, "<!-- a comment: ElementTree reads the part -->")
    path = write_raw_xlsx(tmp_path / "c.xlsx", sheet)
    size = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    with tempfile.TemporaryDirectory() as work, xlsx.Workbook(path, Path(work)) as book:
        before = book.read_bytes
        assert len(list(book.rows())) == 499
        assert book.read_bytes - before == size


def test_long_texts_are_refused_on_both_paths(tmp_path):
    long = "x" * 32768
    row = f'<row r="1"><c r="A1" t="inlineStr"><is><t>{long}</t></is></c></row>'
    fast, slow = both_ways(write_raw_xlsx(tmp_path / "l.xlsx", sheet_of(row)))
    assert fast == slow
    assert fast[0][0][1][0].kind == "invalid"
    shared = SST_HEAD + f"<si><t>{long}</t></si></sst>"
    path = write_raw_xlsx(tmp_path / "ls.xlsx", sheet_of(), shared)
    with (
        tempfile.TemporaryDirectory() as work,
        pytest.raises(xlsx.XlsxError, match="32,768 characters"),
        xlsx.Workbook(path, Path(work)),
    ):
        pass


def shared_values(path: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as work, xlsx.Workbook(path, Path(work)) as book:
        return [c.value for _, cells in book.rows() for c in cells]


def test_unusual_shared_strings_are_read_as_elementtree_reads_them(tmp_path):
    shared = (
        SST_HEAD + "<si><t>a</t></si>\n<!-- a comment -->"
        "<si><t><![CDATA[b < c]]></t></si><si><r><t>d</t></r><r><t>e</t></r></si></sst>"
    )
    row = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABC"))
    path = write_raw_xlsx(tmp_path / "s.xlsx", sheet_of(f'<row r="1">{row}</row>'), shared)
    assert shared_values(path) == ["a", "b < c", "de"]


@pytest.mark.parametrize("chunk", [4, 1 << 16])
def test_damaged_shared_strings_are_refused_with_elementtrees_message(tmp_path, chunk):
    shared = SST_HEAD + "".join(f"<si><t>s{i}</t></si>" for i in range(500)) + "</sst>"
    cut = shared[: shared.index("s400") + 2]
    path = write_raw_xlsx(tmp_path / "t.xlsx", sheet_of(), cut)
    with (
        patch.object(xlsx._Scan, "CHUNK", chunk),
        tempfile.TemporaryDirectory() as work,
        pytest.raises(xlsx.XlsxError, match=r"sharedStrings.xml: damaged XML at line 2, column"),
        xlsx.Workbook(path, Path(work)),
    ):
        pass
