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
