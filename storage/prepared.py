"""The bot's hot Core statements, run straight on the DBAPI cursor of the session's connection.

`Connection.execute` costs several times the driver's own execute for the bot's small indexed
statements: a cache key per call, an execution context, a CursorResult with its row metadata, and
on aiosqlite four greenlet switches (cursor, execute, fetch, close) although the inline driver
(storage/sqlite_inline.py) never waits. Here a statement built once at import is compiled once per
dialect and set of parameter names; a call converts the parameters with the bind processors of
their types, runs the SQL, and converts the rows with the result processors, as SQLAlchemy does.

Unchanged: the connection and its transaction (the session's), the `before_cursor_execute` and
`after_cursor_execute` events (the SQLite write gate, tests that watch the SQL), and SQLAlchemy's
exception wrapping and disconnect handling. A statement with more to do (Python-side defaults,
RETURNING, an expanding IN, a non-positional driver) goes through `Connection.execute`.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Executable, Numeric, Select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util.concurrency import await_

from storage.sqlite_inline import InlineConnection

_Processor = Callable[[Any], Any] | None
_MISSING = object()


class _Plan:
    """One statement compiled for one dialect and set of parameter names."""

    __slots__ = ("statement", "sql", "names", "literals", "binds", "row", "results", "plain_read")

    def __init__(self, statement: Executable, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.statement = statement  # keeps the id() in the cache key alive
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in self.names]
        # A bind the caller need not give (a literal in the statement) has its value here.
        self.literals = {
            name: b.effective_value for name, b in zip(self.names, binds, strict=True)
            if not b.required
        }
        self.binds: tuple[_Processor, ...] = tuple(
            b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds
        )
        # The result columns as SQLAlchemy's CursorResult sees them: Row keys (a label such as
        # `count_1` for an unnamed function) and the types whose processors convert the values.
        columns = compiled._result_columns if isinstance(statement, Select) else []
        self.row: Callable[[Iterable[Any]], tuple[Any, ...]] | None = None
        if columns:
            self.row = namedtuple(  # type: ignore[attr-defined]
                "Row", [c.keyname for c in columns], rename=True)._make
        # No coltype (the driver's type code): of the bot's types only Numeric needs it, and
        # statements returning one are not planned.
        self.results: tuple[_Processor, ...] = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        # A SELECT without row locks: on PostgreSQL it may run before the transaction's BEGIN.
        # (So no SELECT of a function with transaction-scoped effects, e.g. an xact advisory
        # lock, through these helpers: none does.)
        self.plain_read = isinstance(statement, Select) and statement._for_update_arg is None


def _plan_for(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=list(keys))
    if (
        not isinstance(compiled, SQLCompiler)
        or not dialect.positional
        or compiled.positiontup is None
        or compiled.escaped_bind_names
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.effective_returning
        or any(b.expanding for b in compiled.binds.values())
        or any(isinstance(c.type, Numeric) for c in compiled._result_columns)
    ):
        return None
    return _Plan(statement, compiled, dialect)


# Per dialect (one per engine): (id of the statement, its parameter names) -> plan, None when the
# statement goes the usual way. A plan holds its statement, so the id stays its own. Meant for
# statements built once (a few dozen); the cap only bounds a caller that builds them per call.
_MAX_PLANS = 256
_PLANS: weakref.WeakKeyDictionary[Dialect, dict[tuple[int, tuple[str, ...]], _Plan | None]] = (
    weakref.WeakKeyDictionary()
)


def execute(conn: Connection, statement: Executable, params: dict[str, Any],
            rows: bool) -> Sequence[Any] | None:
    """Runs `statement` on `conn` (in a greenlet, as `Connection.execute`); with `rows`, returns
    its rows (named tuples), else None. Falls back to `Connection.execute` when needed."""
    plan = _plan(statement, params, conn.dialect)
    if plan is None:
        result = conn.execute(statement, params)
        return list(result.all()) if rows else None
    return _run(conn, plan, params, rows)


def _plan(statement: Executable, params: dict[str, Any], dialect: Dialect) -> _Plan | None:
    plans = _PLANS.get(dialect)
    if plans is None:
        plans = _PLANS[dialect] = {}
    keys = tuple(sorted(params))
    key = (id(statement), keys)
    try:
        return plans[key]
    except KeyError:
        if len(plans) >= _MAX_PLANS:
            plans.clear()
        plan = plans[key] = _plan_for(statement, keys, dialect)
        return plan


def _args(plan: _Plan, params: dict[str, Any], dialect: Dialect) -> Any:
    literals = plan.literals
    values = []
    for name, process in zip(plan.names, plan.binds, strict=True):
        value = params.get(name, _MISSING)
        if value is _MISSING:
            value = literals[name]
        values.append(value if process is None else process(value))
    return dialect.execute_sequence_format(values)


def read_plain(dbapi_conn: Any, dialect: Dialect, statement: Executable,
               params: dict[str, Any]) -> list[Any] | None:
    """The rows of a plain read (a SELECT without row locks) run on a DBAPI connection outside
    any SQLAlchemy connection (storage/database.py's SQLite reader): no events, no transaction.
    None when the statement cannot be planned (the caller goes the usual way)."""
    plan = _plan(statement, params, dialect)
    if plan is None or not plan.plain_read:
        return None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(plan.sql, _args(plan, params, dialect))
        found = cursor.fetchall()
    finally:
        cursor.close()
    return _rows(plan, found)


def _run(conn: Connection, plan: _Plan, params: dict[str, Any],
         rows: bool) -> Sequence[Any] | None:
    args = _args(plan, params, conn.dialect)
    sql = plan.sql
    adapted = conn.connection.dbapi_connection
    if plan.plain_read and _before_begin(conn, adapted):
        return _read_before_begin(conn, adapted, plan, sql, args)
    driver = getattr(adapted, "driver_connection", None)
    # The inline driver's sqlite3 connection is called directly: no awaits, no greenlet switch.
    cursor: Any = None
    try:
        cursor = driver._conn.cursor() if isinstance(driver, InlineConnection) else (
            adapted.cursor()  # type: ignore[union-attr]
        )
        for before in conn.dispatch.before_cursor_execute:
            sql, args = before(conn, cursor, sql, args, None, False)
        cursor.execute(sql, args)
        for after in conn.dispatch.after_cursor_execute:
            after(conn, cursor, sql, args, None, False)
        found = cursor.fetchall() if rows and plan.row is not None else None
    except BaseException as error:  # wrapped (and a lost connection handled) as SQLAlchemy does
        conn._handle_dbapi_exception(error, sql, args, cursor, None)
    finally:
        if cursor is not None:
            cursor.close()
    return _rows(plan, found) if rows else None


def _rows(plan: _Plan, found: Sequence[Any] | None) -> list[Any]:
    if plan.row is None or not found:
        return []
    make, results = plan.row, plan.results
    if not any(results):
        return [make(row) for row in found]
    return [make([v if p is None else p(v) for v, p in zip(row, results, strict=True)])
            for row in found]


def _before_begin(conn: Connection, adapted: Any) -> bool:
    """PostgreSQL at READ COMMITTED with no BEGIN sent yet on this connection. Each statement
    then takes its own snapshot inside a transaction as outside, so a plain read need not open
    one: a read-only update then costs one round trip instead of three (BEGIN, read, COMMIT).
    The first write (or any statement through `Connection.execute`) still begins first."""
    return (
        isinstance(adapted, AsyncAdapt_asyncpg_connection)
        and adapted._transaction is None
        and adapted.isolation_level is None  # the engine's default, not one set for this use
        and conn.dialect.default_isolation_level == "READ COMMITTED"
    )


def _read_before_begin(conn: Connection, adapted: Any, plan: _Plan, sql: str,
                       args: Any) -> list[Any]:
    try:
        for before in conn.dispatch.before_cursor_execute:
            sql, args = before(conn, None, sql, args, None, False)
        try:
            found = await_(adapted.driver_connection.fetch(sql, *args))
        except Exception as error:  # asyncpg's error as the DBAPI's, as the adapter does
            adapted._handle_exception(error)
        for after in conn.dispatch.after_cursor_execute:
            after(conn, None, sql, args, None, False)
    except BaseException as error:
        conn._handle_dbapi_exception(error, sql, args, None, None)
    return _rows(plan, found)
