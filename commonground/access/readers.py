"""Input formats for the importer: each reader turns an upload into the canonical CSV. No Django.

Validation, de-identification and the store work on the canonical CSV layout only
(access-and-parity.md section 6.1), so a new input format (XLSX, FHIR R4 ndjson, ...) plugs in
as one more ``Reader``: either a ``RowReader`` that yields canonical rows (column name -> text,
ISO 8601 date-times, ``true``/``false``) which are streamed to a CSV file, or a class with its
own ``canonical_csv``. The canonical CSV reader passes the upload through untouched, so line
numbers in error reports are the lines of the uploaded file.
"""

from __future__ import annotations

import csv
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from . import extract

CANONICAL_COLUMNS = tuple(c.name for c in extract.COLUMNS)


class Reader(Protocol):
    kind: str
    label: str

    def canonical_csv(self, source: Path, workdir: Path) -> Path:
        """A canonical CSV for ``source`` (may be ``source`` itself), written in ``workdir``."""
        ...


class CsvReader:
    kind = "csv"
    label = "Canonical CSV extract"

    def canonical_csv(self, source: Path, workdir: Path) -> Path:
        return source


class RowReader(ABC):
    """A format read row by row; rows are streamed to disk, so memory stays flat."""

    kind: str
    label: str

    @abstractmethod
    def rows(self, source: Path) -> Iterator[Mapping[str, str]]:
        """Canonical rows: column name -> text value ('' or missing for blank)."""

    def canonical_csv(self, source: Path, workdir: Path) -> Path:
        target = workdir / "canonical.csv"
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=CANONICAL_COLUMNS, extrasaction="raise", lineterminator="\n"
            )
            writer.writeheader()
            for row in self.rows(source):
                writer.writerow(row)
        return target


READERS: dict[str, Reader] = {"csv": CsvReader()}


def reader_for(kind: str) -> Reader:
    try:
        return READERS[kind]
    except KeyError:
        raise ValueError(f"no reader for {kind!r}; known: {sorted(READERS)}") from None
