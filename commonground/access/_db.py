"""Small DuckDB helpers shared by the access modules. No Django."""

from __future__ import annotations

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
