"""The statements of the writes delegations make all day (proposals, positions, the event log's
lines), run on the driver's own connection inside the unit of work's transaction.

SQLAlchemy's `Connection.execute` finds a statement's compiled form in its cache, then builds an
execution context, converts each value, wraps the cursor in a result and converts each row: for
a statement PostgreSQL answers in 100 µs, as much CPU again, a third of a proposal's cost in its
worker thread. Here a statement is compiled once per set of keys it is given, and what SQLAlchemy
would do at every execution is reduced to what the statement needs: its types' conversions of
the values in and of the columns out, and the defaults computed in Python (`utcnow`). Errors
are SQLAlchemy's all the same (`DBAPIError`), so that `Database.write` turns a lost race into a
`Conflict` as before. (Being the driver's, these statements are not seen by SQLAlchemy's engine
events: its `echo`, `before_cursor_execute`.)
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Convert = Callable[[Any], Any]


class _Plan(NamedTuple):
    sql: str
    #: Values written in the statement itself, converted once.
    written: dict[str, Any]
    #: The given values' conversions, by parameter name (those that need none are not named).
    converts: tuple[tuple[str, Convert], ...]
    #: Values computed in Python when none is given (a column's `default`), converted.
    defaults: tuple[tuple[str, Callable[[], Any], Convert | None], ...]
    #: The columns' conversions out, by position (None: as the driver gave it), and the row.
    columns: tuple[Convert | None, ...] | None
    row: Any
    #: The parameters' order, for a driver that takes them by position (sqlite3's "?").
    order: tuple[str, ...] | None


#: The plans of the statements run here, by statement, kind of database and keys given. The
#: statements are built once (module constants), so this stays small; past `PLANS` (a statement
#: built per call, by mistake) it is emptied rather than left to grow.
_plans: dict[tuple[int, int, frozenset[str]], tuple[ClauseElement, Dialect, _Plan]] = {}
_plans_lock = threading.Lock()
PLANS = 512


def execute(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> list[Any]:
    """Run `statement` with `params` on `connection`'s driver connection, in its transaction:
    the rows (by attribute, as SQLAlchemy's), or [] for a statement that returns none."""
    dialect = connection.dialect
    plan = _plan(statement, dialect, frozenset(params or ()))
    values = _values(plan, params or {})
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        cursor = driver.cursor()
        try:
            cursor.execute(plan.sql, values)
            found = cursor.fetchall() if plan.row is not None else []
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            plan.sql,
            values,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(exc, driver, None),
        ) from exc
    if plan.row is None:
        return []
    make = plan.row._make
    if plan.columns is None:
        return [make(row) for row in found]
    converts = plan.columns
    return [
        make([c(v) if c is not None else v for c, v in zip(converts, row, strict=True)])
        for row in found
    ]


def sql_and_values(
    dialect: Dialect, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The SQL `execute` would send, and its values: for a caller that sends it itself (the
    event log's lines, in a pipeline with the commit)."""
    plan = _plan(statement, dialect, frozenset(params))
    return plan.sql, _values(plan, params)


def plain_sql_and_values(
    dialect: Dialect, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """`sql_and_values` for a caller that reads the rows as the driver gives them
    (`app.db.peek`): a statement whose columns SQLAlchemy would convert (UTC dates, enums,
    JSON) is refused."""
    plan = _plan(statement, dialect, frozenset(params))
    if plan.columns is not None:
        raise ValueError(f"plain statements only: columns SQLAlchemy converts in {statement}")
    return plan.sql, _values(plan, params)


def _values(plan: _Plan, params: Mapping[str, Any]) -> Any:
    values = {**plan.written, **params}
    for name, convert in plan.converts:
        if name in values:
            values[name] = convert(values[name])
    for name, compute, convert in plan.defaults:
        value = compute()
        values[name] = convert(value) if convert is not None else value
    if plan.order is None:
        return values
    return tuple(values[name] for name in plan.order)  # a driver whose parameters are "?"


def _plan(statement: ClauseElement, dialect: Dialect, keys: frozenset[str]) -> _Plan:
    key = (id(statement), id(dialect), keys)
    known = _plans.get(key)
    if known is not None and known[0] is statement and known[1] is dialect:
        return known[2]
    plan = _compile(statement, dialect, keys)
    with _plans_lock:  # (kept with their plan, the statement's and the dialect's ids are not
        if len(_plans) >= PLANS:  # reused meanwhile)
            _plans.clear()
        _plans[key] = (statement, dialect, plan)
    return plan


def _compile(statement: ClauseElement, dialect: Dialect, keys: frozenset[str]) -> _Plan:
    compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(keys))
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError(f"direct.execute: parameters rendered at execution in {statement}")
    if compiled.escaped_bind_names:
        raise ValueError(f"direct.execute: parameter names SQLAlchemy escapes in {statement}")
    written: dict[str, Any] = {}
    converts: dict[str, Convert] = {}  # by name: a name bound twice is converted once
    for bind, name in compiled.bind_names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in keys or bind.required:
            if convert is not None:
                converts.setdefault(name, convert)
        elif bind.callable is not None:
            raise ValueError(f"direct.execute: a value computed at execution in {statement}")
        else:
            written[name] = convert(bind.value) if convert is not None else bind.value
    defaults = []
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is not None and default.is_scalar:
            compute: Callable[[], Any] = lambda value=default.arg: value  # noqa: E731
        elif default is not None and default.is_callable and hasattr(default.arg, "__wrapped__"):
            compute = default.arg.__wrapped__  # a function of nothing (`utcnow`, `dict`)
        else:  # an SQL expression, or a function of SQLAlchemy's execution context
            raise ValueError(f"direct.execute: a default SQLAlchemy computes in {statement}")
        convert = column.type.dialect_impl(dialect).bind_processor(dialect)
        defaults.append((column.key, compute, convert))
    columns: tuple[Convert | None, ...] | None = None
    row = None
    shown = compiled._result_columns  # (name, …, type): what SQLAlchemy's rows are made of
    if shown:
        names = [c[0] for c in shown]
        row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        if list(row._fields) != names:
            raise ValueError(f"direct.execute: columns without a name of their own in {statement}")
        try:  # the driver's type of each column is not known here: only conversions that
            found = [  # do without it (those that need it, e.g. psycopg's Numeric, fail here)
                c[3].dialect_impl(dialect).result_processor(dialect, None) for c in shown
            ]
        except Exception as exc:
            raise ValueError(
                f"direct.execute: a column converted by its driver type in {statement}"
            ) from exc
        columns = tuple(found) if any(found) else None
    order = tuple(compiled.positiontup) if compiled.positional else None
    return _Plan(
        str(compiled), written, tuple(converts.items()), tuple(defaults), columns, row, order
    )
