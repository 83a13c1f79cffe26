"""Small DuckDB helpers shared by the access modules. No Django."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple[Any, ...]:
    """The first row of a query, with the result fully consumed (DuckDB 2 requires it)."""
    rel = con.execute(sql) if params is None else con.execute(sql, params)
    rows = rel.fetchall()
    if not rows:
        raise LookupError("the query returned no row")
    return tuple(rows[0])


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    return one_row(con, sql, params)[0]


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    """A parenthesised list of SQL string literals, for ``IN``."""
    return "(" + ", ".join(quote(v) for v in values) + ")"


def parquet_columns(con: duckdb.DuckDBPyConnection, paths: list[str]) -> set[str]:
    """The columns of Parquet files, read together by name (a file written before a column
    was added lacks it)."""
    rows = con.execute(
        "DESCRIBE SELECT * FROM read_parquet($files, hive_partitioning = false, "
        "union_by_name = true)",
        {"files": paths},
    ).fetchall()
    return {str(r[0]) for r in rows}


def drop_relations(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Drop each of ``names`` that exists, as the view or table it is, in the order given
    (a view before the table it reads)."""
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_name IN (SELECT unnest($names::VARCHAR[]))",
            {"names": list(names)},
        ).fetchall()
    )
    for name in names:
        if name in kinds:
            kind = "VIEW" if kinds[name] == "VIEW" else "TABLE"
            identifier = '"' + name.replace('"', '""') + '"'
            con.execute(f"DROP {kind} {identifier}")
