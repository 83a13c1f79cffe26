"""A minimal XLSX writer for tests: just enough OOXML to exercise the reader.

Cells: ``str`` (a shared string, or an inline string with ``inline=True``), ``int``/``float``
(a number), ``bool``, ``Date(serial)`` (a number with a date style), ``Formula(text, cached)``,
``Error("#N/A")``, ``None`` (no cell).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from commonground.access.xlsx import column_letters

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Date:
    serial: float


@dataclass(frozen=True)
class Formula:
    text: str
    cached: Any = 0


@dataclass(frozen=True)
class Error:
    code: str = "#N/A"


def _cell(ref: str, value: Any, strings: dict[str, int], inline: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Formula):
        return f'<c r="{ref}"><f>{escape(value.text)}</f><v>{value.cached}</v></c>'
    if isinstance(value, Error):
        return f'<c r="{ref}" t="e"><v>{escape(value.code)}</v></c>'
    if isinstance(value, Date):
        return f'<c r="{ref}" s="1"><v>{value.serial!r}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    if inline:
        return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    index = strings.setdefault(text, len(strings))
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


def sheet_xml(rows: list[tuple[int, list[Any]]], strings: dict[str, int], inline: bool) -> str:
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
           "<sheetData>"]  # fmt: skip
    for number, cells in rows:
        body = "".join(
            _cell(f"{column_letters(i)}{number}", v, strings, inline) for i, v in enumerate(cells)
        )
        out.append(f'<row r="{number}">{body}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out)


def write_xlsx(
    path: Path,
    rows: list[list[Any]] | list[tuple[int, list[Any]]],
    *,
    inline: bool = False,
    date1904: bool = False,
    first_row: int = 1,
    extra_sheet_first: bool = False,
) -> Path:
    """Write ``rows`` (lists of cells, or (row number, cells)) as the first worksheet."""
    numbered: list[tuple[int, list[Any]]] = []
    for i, r in enumerate(rows):
        numbered.append(r if isinstance(r, tuple) else (first_row + i, r))  # type: ignore[arg-type]
    strings: dict[str, int] = {}
    sheet = sheet_xml(numbered, strings, inline)
    sst = "".join(
        f'<si><t xml:space="preserve">{escape(s)}</t></si>'
        for s, _ in sorted(strings.items(), key=lambda kv: kv[1])
    )
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types '
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
            f'{pr}<sheets><sheet name="Extract" sheetId="1" r:id="rId1"/>'
            '<sheet name="Notes" sheetId="2" r:id="rId9"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId9" Type="{RELS}/worksheet" Target="worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd hh:mm"/>'
            '</numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>'
            "</styleSheet>",
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{sst}</sst>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        # A second sheet the reader must ignore (only the first worksheet is the extract).
        z.writestr(
            "xl/worksheets/sheet2.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>not the extract</t></is></c></row>'
            "</sheetData></worksheet>",
        )
    return path


def csv_to_xlsx_rows(text: str) -> list[list[Any]]:
    """The rows of a CSV text as sheet cells: all text (as a person pasting values would)."""
    import csv
    import io

    return [list(r) for r in csv.reader(io.StringIO(text))]


def write_raw_xlsx(
    path: Path, sheet: str | bytes, shared: str | bytes | None = None, *, date1904: bool = False
) -> Path:
    """A workbook whose worksheet (and shared strings) parts are the given XML, verbatim.

    For the reader's parsing paths: attribute orders, rich text, entities, whitespace ...
    Styles: xf 0 is General, xf 1 a custom date-time, xf 2 the built-in date 14.
    """
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
            f'{pr}<sheets><sheet name="Extract" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        sst_rel = (
            f'<Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            if shared is not None
            else ""
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>{sst_rel}'
            "</Relationships>",
        )
        z.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd hh:mm"/>'
            '</numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/>'
            '<xf numFmtId="14"/></cellXfs></styleSheet>',
        )
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path
