"""Benchmark: the XLSX extract reader against ``csv.reader`` on the same rows, in one process.

    .venv/bin/python benchmarks/xlsx_bench.py [--rows 200000] [--repeat 1]
        [--serial-dates] [--skip-convert] [--workdir DIR] [--keep]

1. Generates N seeded canonical rows (``commonground.access.synthetic`` through
   ``access_generate.py``: all 28 columns) as a CSV in a temporary folder, never in the repo,
   and writes the same rows as two XLSX workbooks with a streaming writer (below): one with
   shared strings (what Excel saves) and one with inline strings (what many exporters write).
   Cells are typed as a steward's workbook holds them: whole numbers as numbers,
   ``true``/``false`` as booleans, everything else as text (date-times keep their UTC offset,
   which an Excel serial cannot hold; ``--serial-dates`` stores them as serials with a date
   style instead, which drops the offset, so the round-trip check is skipped).
2. Times, in this process, best of ``--repeat``:
   (ref) reading the CSV with ``csv.reader`` (every row, every cell);
   (rows) each workbook through the entry point ``readers.XlsxReader`` uses:
          ``xlsx.Workbook(...).rows()`` and ``xlsx.cell_text`` on every cell, the date-time
          columns flagged, as readers.py does;
   (convert) each workbook through ``readers.convert`` end to end (the canonical CSV and the
          line map written to disk), and checks that it holds exactly the CSV's rows.
3. Prints rows/s, the ratio to the reference and the peak resident memory of each phase
   (``VmHWM``, reset before each phase through ``/proc/self/clear_refs``; Linux only).

No absolute-time assertions: the machine is shared, so only the ratios mean much.
This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
for _p in (REPO, REPO / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from access_generate import generate  # noqa: E402

from commonground.access import extract, readers, xlsx  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
INTEGER_COLUMNS = {"duration_min", "patient_birth_year", "recommended_return_days"}
_HWM = re.compile(r"VmHWM:\s+(\d+) kB")
_RSS = re.compile(r"VmRSS:\s+(\d+) kB")


# -- memory ----------------------------------------------------------------------------------


def _status(pattern: re.Pattern[str]) -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            match = pattern.search(handle.read())
    except OSError:
        return float("nan")
    return int(match.group(1)) / 1024 if match else float("nan")


def reset_peak() -> float:
    """Reset the peak-RSS mark (Linux >= 4.0); returns the resident size now, in MB."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        pass
    return _status(_RSS)


# -- a streaming XLSX writer -----------------------------------------------------------------


def _serial(text: str) -> float:
    moment = dt.datetime.fromisoformat(text)  # local wall time: the offset is dropped
    delta = moment - dt.datetime(1899, 12, 30, tzinfo=moment.tzinfo)
    return delta.days + delta.seconds / 86400


def _cells(header: list[str], values: list[str], serial_dates: bool) -> Iterator[str]:
    """``(attributes, body)`` XML of each non-empty cell, without the reference."""
    for name, value in zip(header, values, strict=True):
        if value == "":
            yield ""
        elif value in ("true", "false"):
            yield f' t="b"><v>{int(value == "true")}</v>'
        elif name in INTEGER_COLUMNS:
            yield f"><v>{value}</v>"
        elif serial_dates and name.endswith(("_datetime", "_start")):
            yield f' s="1"><v>{_serial(value)!r}</v>'
        else:
            yield "\0" + value  # text: the caller writes it inline or as a shared string


def write_workbook(
    csv_path: Path, out: Path, *, inline: bool, serial_dates: bool = False
) -> tuple[int, int]:
    """The CSV's rows as the first worksheet of ``out``; (rows, distinct shared strings)."""
    letters = [xlsx.column_letters(i) for i in range(64)]
    strings: dict[str, int] = {}
    rows = 0
    with (
        csv_path.open(newline="", encoding="utf-8") as handle,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book,
    ):
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                f'xmlns="{MAIN}" xmlns:r="{RELS}"><dimension ref="A1"/><sheetData>'.encode()
            )
            reader = csv.reader(handle)
            header = next(reader)
            parts = ['<row r="1">'] + [
                f'<c r="{letters[i]}1" t="inlineStr"><is><t>{escape(name)}</t></is></c>'
                for i, name in enumerate(header)
            ]
            parts.append("</row>")
            for number, values in enumerate(reader, start=2):
                rows += 1
                parts.append(f'<row r="{number}" spans="1:{len(header)}">')
                for i, xml in enumerate(_cells(header, values, serial_dates)):
                    if not xml:
                        continue
                    ref = f"{letters[i]}{number}"
                    if xml[0] != "\0":
                        parts.append(f'<c r="{ref}"{xml}</c>')
                        continue
                    text = xml[1:]
                    space = ' xml:space="preserve"' if text != text.strip() else ""
                    if inline:
                        parts.append(
                            f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
                        )
                    else:
                        index = strings.setdefault(text, len(strings))
                        parts.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                parts.append("</row>")
                if len(parts) > 20_000:
                    sheet.write("".join(parts).encode())
                    parts.clear()
            parts.append("</sheetData></worksheet>")
            sheet.write("".join(parts).encode())
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as sst:
            sst.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" '
                f'uniqueCount="{len(strings)}">'.encode()
            )
            parts = []
            for text in strings:  # insertion order is index order
                space = ' xml:space="preserve"' if text != text.strip() else ""
                parts.append(f"<si><t{space}>{escape(text)}</t></si>")
                if len(parts) > 20_000:
                    sst.write("".join(parts).encode())
                    parts.clear()
            parts.append("</sst>")
            sst.write("".join(parts).encode())
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types '
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        book.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        book.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
            '<workbookPr/><sheets><sheet name="Extract" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>",
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        book.writestr(
            "xl/styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd hh:mm"/>'
            '</numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>'
            "</styleSheet>",
        )
    return rows, len(strings)


# -- the timed readers -----------------------------------------------------------------------


def read_csv(path: Path) -> int:
    rows = 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for _row in reader:
            rows += 1
    return rows


def read_xlsx(path: Path, workdir: Path) -> int:
    """The workbook the way ``readers.XlsxReader.convert`` reads it, without writing the CSV."""
    rows = 0
    with xlsx.Workbook(path, workdir) as book:
        kinds: list[bool] = []
        header: list[str] = []
        for _number, cells in book.rows():
            if not header:
                header = [xlsx.cell_text(c) for c in cells]
                kinds = [getattr(extract.BY_NAME.get(h), "kind", "") == "datetime" for h in header]
                continue
            values = [""] * len(header)
            for cell in cells:
                values[cell.column] = xlsx.cell_text(
                    cell, datetime_column=kinds[cell.column], date1904=book.date1904
                )
            rows += 1
    return rows


def convert_xlsx(path: Path, workdir: Path) -> int:
    converted = readers.convert(path, workdir, name=path.name)
    if converted.problem_count:
        raise RuntimeError(f"{path.name}: {converted.problems[:3]}")
    return converted.counts["rows"]


def same_rows(a: Path, b: Path) -> bool:
    with (
        a.open(newline="", encoding="utf-8") as ha,
        b.open(newline="", encoding="utf-8") as hb,
    ):
        return all(x == y for x, y in zip(csv.reader(ha), csv.reader(hb), strict=True))


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int, float, float]:
    """(best seconds, rows, resident MB before, peak resident MB during)."""
    best = float("inf")
    rows = 0
    before = peak = 0.0
    for _ in range(repeat):
        before = reset_peak()
        start = time.perf_counter()
        rows = fn()
        best = min(best, time.perf_counter() - start)
        peak = max(peak, _status(_HWM))
    return best, rows, before, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serial-dates", action="store_true")
    parser.add_argument("--skip-convert", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xlsx-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if workdir.resolve().is_relative_to(REPO):
        parser.error("--workdir must be outside the repository")
    try:
        csv_path = workdir / f"extract-{args.rows}.csv"
        if not csv_path.exists():
            generate(csv_path, args.rows)
        suffix = "-serial" if args.serial_dates else ""
        books: dict[str, Path] = {}
        for variant, inline in (("shared", False), ("inline", True)):
            path = workdir / f"extract-{args.rows}-{variant}{suffix}.xlsx"
            if not path.exists():
                began = time.perf_counter()
                _, distinct = write_workbook(
                    csv_path, path, inline=inline, serial_dates=args.serial_dates
                )
                print(
                    f"wrote {path.name}: {path.stat().st_size / 1e6:,.1f} MB, "
                    f"{distinct:,} shared strings, in {time.perf_counter() - began:.1f} s"
                )
            books[variant] = path
        with csv_path.open(encoding="utf-8") as handle:
            width = len(next(csv.reader(handle)))
        print(f"{args.rows:,} rows x {width} columns; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)\n")  # fmt: skip

        results: list[tuple[str, float, int, float, float]] = []
        ref = timed(lambda: read_csv(csv_path), args.repeat)
        results.append(("(ref) csv.reader", *ref))
        checks: list[str] = []
        for variant, path in books.items():
            work = workdir / f"work-{variant}"

            def rows_only(p: Path = path, w: Path = work) -> int:
                shutil.rmtree(w, ignore_errors=True)
                w.mkdir()
                return read_xlsx(p, w)

            results.append((f"(rows) xlsx {variant} strings", *timed(rows_only, args.repeat)))
            if args.skip_convert:
                continue

            def convert(p: Path = path, w: Path = work) -> int:
                shutil.rmtree(w, ignore_errors=True)
                return convert_xlsx(p, w)

            results.append((f"(convert) xlsx {variant} strings", *timed(convert, args.repeat)))
            if not args.serial_dates:
                ok = same_rows(csv_path, work / "canonical.csv")
                checks.append(f"{variant}: {'same rows as the CSV' if ok else 'ROWS DIFFER'}")

        ref_s = ref[0]
        print(f"{'':34}{'seconds':>9}{'rows/s':>11}{'x csv.reader':>14}{'RSS MB before/peak':>21}")
        for label, seconds, rows, before, peak in results:
            if rows != args.rows:
                raise RuntimeError(f"{label}: read {rows:,} rows, expected {args.rows:,}")
            print(f"{label:34}{seconds:>9.2f}{rows / seconds:>11,.0f}{seconds / ref_s:>13.1f}x"
                  f"{before:>12,.0f} / {peak:,.0f}")  # fmt: skip
        if checks:
            print("\nround trip (readers.convert output vs the CSV): " + "; ".join(checks))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
