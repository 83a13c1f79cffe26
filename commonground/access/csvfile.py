"""A small CSV file read whole, each problem located by line and column. No Django.

The weekly counts (``counts``) and the clinic closure calendar (``closures``) read their
files through ``CheckedRows``: the header first (every required column there, none unknown
or repeated; any problem there ends the reading), then each non-blank row with its line
number as a dict of stripped cells. A row of the wrong width, a malformed quote or bytes
that are not UTF-8 are problems of their own line, reported through ``bad``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence

Bad = Callable[[int, str, str, str], None]  # line, column, value, reason


class CheckedRows:
    """The rows of a CSV whose header has ``columns`` (and perhaps ``optional`` ones).

    ``data_rows`` counts the non-blank rows after the header, good or bad, once read.
    """

    def __init__(
        self,
        handle: Iterable[str],
        bad: Bad,
        *,
        columns: Sequence[str],
        optional: Sequence[str] = (),
        max_rows: int,
        fold_case: bool = False,
    ) -> None:
        self.handle = handle
        self.bad = bad
        self.columns = list(columns)
        self.optional = list(optional)
        self.max_rows = max_rows
        self.fold_case = fold_case
        self.data_rows = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        bad = self.bad
        reader = csv.reader(self.handle, strict=True)  # a stray or unclosed quote is an error
        try:
            header = next(reader)
        except StopIteration:
            bad(1, "", "", "the file is empty")
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            bad(1, "", "", f"not a CSV file ({exc})")
            return
        names = [h.strip().lower() if self.fold_case else h.strip() for h in header]
        if names and names[0].startswith("\ufeff"):
            names[0] = names[0][1:]
        known = [*self.columns, *self.optional]
        problems = [(1, c, "", "required column missing") for c in self.columns if c not in names]
        problems += [(1, n, n, "unknown column") for n in names if n not in known]
        if len(set(names)) != len(names):
            problems.append((1, "", ",".join(names), "a column appears twice"))
        for problem in problems:
            bad(*problem)
        if problems:
            return
        end = 1  # the last line read: a record starts on the line after the one before it
        try:
            for values in reader:
                line, end = end + 1, reader.line_num  # (a quoted line break spans lines)
                if not any(v.strip() for v in values):
                    continue
                self.data_rows += 1
                if self.data_rows > self.max_rows:
                    bad(line, "", "", f"more than {self.max_rows:,} rows")
                    return
                if len(values) != len(names):
                    bad(line, "", "", f"{len(values)} fields, the header has {len(names)}")
                    continue
                yield line, {name: value.strip() for name, value in zip(names, values, strict=True)}
        except csv.Error as exc:
            bad(end + 1, "", "", f"malformed CSV ({exc})")
        except UnicodeDecodeError:
            bad(end + 1, "", "", "the file is not UTF-8 text")
