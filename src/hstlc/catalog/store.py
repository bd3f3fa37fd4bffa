"""Engine, sessions and the natural-key upserts of the catalog.

Any SQLAlchemy URL works (SQLite by default; PostgreSQL and MariaDB/MySQL are tested). Upserts look a
row up by its natural key and update it in place, so re-running never duplicates rows; the caller owns
the transaction (``with catalog.session() as s: ...`` commits on success and rolls back on error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import ColumnCollectionConstraint

from hstlc.catalog.schema import (
    BAD_DATA_REASONS,
    REASON_SEPARATOR,
    BadData,
    Base,
    Metadata,
    Outputs,
    Stats,
    utcnow,
)
from hstlc.errors import CatalogError
from hstlc.targets import name_key

if TYPE_CHECKING:
    from hstlc.catalog.listings import CatalogFilter, ProductSummary, TargetSummary
    from hstlc.catalog.show import CatalogEntry

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Base)


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for display and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``; for SQLite foreign keys are enforced and, with ``create``, the database's
    folder is made. Without ``create`` (read-only use) a SQLite file that does not exist is an error
    (:class:`CatalogError`, advising ``hstlc db init``) and nothing is created: no folder, no empty file.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogError(f"db_connection_string: not a database URL: {masked_url(url)!r}") from None
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.is_file():
                raise CatalogError(f"{masked_url(url)}: the catalog does not exist; run 'hstlc db init'")
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError, ModuleNotFoundError) as exc:
        raise CatalogError(
            f"{masked_url(url)}: no database driver for this URL ({exc}); "
            "install hstlc[postgres] or hstlc[mysql]"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@dataclass
class Catalog:
    """The catalog database: an engine plus a session factory. Build with :meth:`from_url`."""

    engine: Engine

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> Catalog:
        """The catalog at ``url``; ``create=False`` for read-only use (see :func:`make_engine`)."""
        return cls(make_engine(url, create=create))

    @classmethod
    def open_existing(cls, url: str) -> Catalog:
        """The catalog at ``url`` for reading: it must exist with all its tables (else :class:`CatalogError`
        advising ``hstlc db init``; nothing is created — no folder, file or table). An older catalog gains
        the columns and indexes this release defines (:meth:`check_schema`)."""
        catalog = cls.from_url(url, create=False)
        try:
            catalog.check_schema()
        except BaseException:
            catalog.dispose()
            raise
        return catalog

    @property
    def url(self) -> str:
        return masked_url(self.engine.url.render_as_string(hide_password=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception."""
        factory = sessionmaker(self.engine, expire_on_commit=False)
        try:
            with factory.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: {type(exc).__name__}: {_first_line(exc)}") from exc

    def init_schema(self) -> list[str]:
        """Create every missing table and index, then add missing columns (idempotent).

        Returns the tables created; the columns added to existing tables (see :meth:`upgrade_schema`)
        are logged, and returned by :meth:`create_or_upgrade`.
        """
        return self.create_or_upgrade()[0]

    def create_or_upgrade(self) -> tuple[list[str], list[str]]:
        """:meth:`init_schema`, returning ``(tables created, columns added as table.column)``."""
        try:
            before = set(inspect(self.engine).get_table_names())
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: cannot create the catalog: {_first_line(exc)}") from exc
        added = self.upgrade_schema()
        return sorted(set(Base.metadata.tables) - before), added

    def check_schema(self) -> None:
        """Make sure the catalog can be read and written by this release.

        Raises :class:`CatalogError` unless every hstlc table exists (advice: ``hstlc db init``); adds
        the columns and indexes an older release's tables lack (:meth:`upgrade_schema`), so an upgraded
        hstlc works on an old catalog with no manual step. One inspection when nothing is missing.
        """
        missing, gaps, indexes = self._inspect_schema()
        if missing:
            raise CatalogError(
                f"{self.url}: catalog is missing table(s) {', '.join(missing)}; run 'hstlc db init'"
            )
        if gaps:
            self._add_columns(gaps)
        if indexes:
            self._add_indexes(indexes)

    def missing_tables(self) -> list[str]:
        try:
            present = set(inspect(self.engine).get_table_names())
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: cannot connect: {_first_line(exc)}") from exc
        return sorted(set(Base.metadata.tables) - present)

    def missing_columns(self) -> list[str]:
        """``table.column`` of every model column an existing hstlc table lacks (one inspection)."""
        return [f"{table.name}.{column.name}" for table, column in self._inspect_schema()[1]]

    def missing_indexes(self) -> list[str]:
        """The names of the model indexes an existing hstlc table lacks (one inspection)."""
        return [index.name for index in self._inspect_schema()[2] if index.name]

    def upgrade_schema(self) -> list[str]:
        """Add to every existing hstlc table the columns and indexes the models define and it lacks.

        Each column is added with ``ALTER TABLE … ADD COLUMN`` (existing rows get NULL); only nullable
        columns without a server default or unique constraint can be added so, and any other missing column
        raises :class:`CatalogError` before anything is changed. Then each missing index is created (see
        :meth:`_add_indexes`: one that cannot be, e.g. for a database user without the right, is a
        logged warning: indexes only make queries fast). Idempotent, and safe when another process
        upgrades at the same time (a column or index it added first is skipped). Tables that do not exist
        are left to :meth:`init_schema`. Returns the columns added, as ``table.column`` (the indexes are
        logged).
        """
        _missing, gaps, indexes = self._inspect_schema()
        added = self._add_columns(gaps)
        self._add_indexes(indexes)
        return added

    def _inspect_schema(self) -> tuple[list[str], list[tuple[Table, Column[Any]]], list[Index]]:
        """The missing hstlc tables, and the missing columns and indexes of the present ones, in one
        inspection."""
        try:
            inspector = inspect(self.engine)
            present = set(inspector.get_table_names())
            names = [name for name in Base.metadata.tables if name in present]
            found = inspector.get_multi_columns(filter_names=names) if names else {}
            found_indexes = inspector.get_multi_indexes(filter_names=names) if names else {}
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: cannot connect: {_first_line(exc)}") from exc
        columns = {name: {c["name"] for c in cols} for (_schema, name), cols in found.items()}
        indexed = {name: {str(i["name"]).lower() for i in items}
                   for (_schema, name), items in found_indexes.items()}
        gaps: list[tuple[Table, Column[Any]]] = []
        indexes: list[Index] = []
        for name in names:
            table = Base.metadata.tables[name]
            gaps.extend((table, c) for c in table.columns if c.name not in columns.get(name, ()))
            lacking = (i for i in table.indexes if str(i.name).lower() not in indexed.get(name, ()))
            indexes.extend(sorted(lacking, key=lambda i: str(i.name)))
        return sorted(set(Base.metadata.tables) - present), gaps, indexes

    def _present_indexes(self, table: Table) -> set[str]:
        """The names of the indexes ``table`` has now (a fresh inspection), lower case."""
        try:
            return {str(i["name"]).lower() for i in inspect(self.engine).get_indexes(table.name)}
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: cannot inspect table {table.name}: {_first_line(exc)}") from exc

    def _add_indexes(self, indexes: Sequence[Index]) -> None:
        """``CREATE INDEX`` each of ``indexes`` (they make queries fast; none is needed for correctness).

        An index another process created meanwhile is skipped; one that cannot be created (a read-only
        catalog, a user without the right) is a warning, and the queries run without it.
        """
        added: list[str] = []
        for index in indexes:
            table = index.table
            assert isinstance(table, Table)  # an index of a model table always has its table
            try:
                index.create(self.engine)
            except SQLAlchemyError as exc:
                if str(index.name).lower() in self._present_indexes(table):
                    log.debug("%s: index %s was added by another process", self.url, index.name)
                    continue
                log.warning("%s: cannot add index %s on %s (%s); queries work without it, more slowly "
                            "('hstlc db init' as a user allowed to create indexes adds it)",
                            self.url, index.name, table.name, _first_line(exc))
                continue
            added.append(str(index.name))
        if added:
            log.info("%s: schema upgraded, added index(es) %s", self.url, ", ".join(added))

    def _present_columns(self, table: Table) -> set[str]:
        """The columns ``table`` has now (a fresh inspection, no cached answer)."""
        try:
            return {c["name"] for c in inspect(self.engine).get_columns(table.name)}
        except SQLAlchemyError as exc:
            raise CatalogError(f"{self.url}: cannot inspect table {table.name}: {_first_line(exc)}") from exc

    def _add_columns(self, gaps: Sequence[tuple[Table, Column[Any]]]) -> list[str]:
        """``ALTER TABLE … ADD COLUMN`` each of ``gaps`` (after checking all can be added)."""
        for table, column in gaps:
            if not column.nullable or column.server_default is not None:
                kind = "is NOT NULL" if not column.nullable else "has a server default"
                raise CatalogError(
                    f"{self.url}: table {table.name} lacks column {column.name}, which {kind} and "
                    "cannot be added to existing rows automatically; add it by hand or rebuild the catalog"
                )
            if any(column.name in index.columns for index in table.indexes if index.unique) or any(
                column.name in c.columns
                for c in table.constraints
                if isinstance(c, ColumnCollectionConstraint) and c is not table.primary_key
            ):
                raise CatalogError(
                    f"{self.url}: table {table.name} lacks column {column.name}, which is unique or "
                    "constrained and cannot be added automatically; add it by hand or rebuild the catalog"
                )
        dialect = self.engine.dialect
        quote = dialect.identifier_preparer
        added: list[str] = []
        for table, column in gaps:
            statement = (
                f"ALTER TABLE {quote.format_table(table)} "
                f"ADD COLUMN {quote.format_column(column)} {column.type.compile(dialect=dialect)}"
            )
            try:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(statement)
            except SQLAlchemyError as exc:
                if column.name in self._present_columns(table):  # another process added it meanwhile
                    log.debug("%s: %s.%s was added by another process", self.url, table.name, column.name)
                    continue
                raise CatalogError(
                    f"{self.url}: cannot add column {table.name}.{column.name} ({_first_line(exc)}); "
                    "run 'hstlc db init' as a database user allowed to alter tables"
                ) from exc
            added.append(f"{table.name}.{column.name}")
        if added:
            log.info("%s: schema upgraded, added column(s) %s", self.url, ", ".join(added))
        return added

    def status(self) -> dict[str, int | None]:
        """Row count per hstlc table (``None`` for a table that does not exist yet)."""
        missing = set(self.missing_tables())
        counts: dict[str, int | None] = {}
        with self.session() as session:
            for name, table in Base.metadata.tables.items():
                if name in missing:
                    counts[name] = None
                    continue
                counts[name] = session.execute(select(func.count()).select_from(table)).scalar_one()
        return counts

    def targets(self, filters: CatalogFilter | None = None, *,
                settings_key: str | None = None) -> list[TargetSummary]:
        """One row per resolved target that ``filters`` selects: its datasets, exposure, time span,
        configurations and the verdict of its composites (:mod:`hstlc.catalog.listings`).

        ``settings_key`` is the current verdict settings' key (``StatsOptions.key()``): stats made with
        others are marked ``stale``; without it only the method version is compared.
        """
        from hstlc.catalog.listings import list_targets

        return list_targets(self, filters, settings_key=settings_key)

    def products(self, filters: CatalogFilter | None = None, *,
                 settings_key: str | None = None) -> list[ProductSummary]:
        """One row per lightcurve product (individual and composite) that ``filters`` selects, with its
        datasets' metadata and its stats (:mod:`hstlc.catalog.listings`)."""
        from hstlc.catalog.listings import list_products

        return list_products(self, filters, settings_key=settings_key)

    def show(self, name: str, *, settings_key: str | None = None) -> CatalogEntry:
        """Everything the catalog holds about ``name`` — a target, a rootname, a product file name or an
        input file name: its datasets, products, stats (with each band's period) and rejected files
        (:mod:`hstlc.catalog.show`). Raises :class:`CatalogError` when nothing has that name."""
        from hstlc.catalog.show import show_entry

        return show_entry(self, name, settings_key=settings_key)

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_file_missing(url: str) -> bool:
    """Whether ``url`` is a SQLite catalog whose file does not exist (or an in-memory one): opening it would
    create an empty database, so a read-only command reports it missing instead (no file is touched)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or (
        not database.startswith("file:") and not Path(database).expanduser().is_file()
    )


def open_if_exists(url: str) -> Catalog | None:
    """The catalog at ``url`` if it exists with all its tables, else None — without creating or changing
    anything (a SQLite file that does not exist is not created; no table or column is added)."""
    if sqlite_file_missing(url):
        return None
    catalog = Catalog.from_url(url)
    try:
        if not catalog.missing_tables():
            return catalog
    except CatalogError:
        pass
    catalog.dispose()
    return None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _upsert(session: Session, model: type[T], key: Mapping[str, Any], values: Mapping[str, Any]) -> T:
    """Update the row of ``model`` matching ``key`` with ``values``, or insert it."""
    columns = set(model.__table__.columns.keys())
    unknown = (set(key) | set(values)) - columns
    if unknown:
        raise ValueError(f"{model.__tablename__} has no column(s) {', '.join(sorted(unknown))}")
    row = session.execute(select(model).filter_by(**key)).scalar_one_or_none()
    if row is None:
        row = model(**key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    session.flush()
    return row


#: Keys per ``IN (...)`` list (well below every backend's bound-parameter limit).
IN_CHUNK = 500


def select_in(session: Session, statement: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    """The rows of ``statement`` with ``column IN values``, asked :data:`IN_CHUNK` values at a time."""
    rows: list[Any] = []
    for start in range(0, len(values), IN_CHUNK):
        rows.extend(session.execute(statement.where(column.in_(values[start : start + IN_CHUNK]))).all())
    return rows


def bulk_upsert(session: Session, model: type[Any], key: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert or update ``rows`` of ``model`` by its unique column ``key`` in a few statements.

    One ``SELECT key … IN`` finds the rows that exist; the others are inserted with one multi-row
    INSERT and the existing ones updated with one executemany UPDATE per set of columns (rows with the
    same key merge, later values winning). Only the columns given are written; column defaults and
    ``onupdate`` apply as for any insert or update. Meant for a single writer (ingest holds its lock):
    it does not guard against another session inserting the same key meanwhile.
    """
    table = model.__table__
    columns = set(table.columns.keys())
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        unknown = set(row) - columns
        if unknown:
            raise ValueError(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")
        merged.setdefault(row[key], {}).update(row)
    if not merged:
        return
    existing = {k for (k,) in select_in(session, select(table.c[key]), table.c[key], list(merged))}
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for value, row in merged.items():
        groups.setdefault((value in existing, tuple(sorted(row))), []).append(row)
    for (exists, names), group in groups.items():
        if not exists:
            session.execute(insert(table), group)
            continue
        changed = [n for n in names if n != key]
        if not changed:
            continue
        statement = (
            update(table)
            .where(table.c[key] == bindparam("key_"))
            .values({n: bindparam(f"new_{n}") for n in changed})
        )
        session.execute(statement, [{"key_": r[key], **{f"new_{n}": r[n] for n in changed}} for r in group])


def targname_key(targname: Any) -> str | None:
    """The key of a target name the catalog indexes (``targname_key``): :func:`hstlc.targets.name_key`,
    the resolver's key (case, spacing and a SIMBAD ``NAME ``/``V* `` prefix do not matter)."""
    return None if targname is None else name_key(str(targname))


def with_targname_key(values: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` column values with ``targname_key`` derived from ``targname`` (unless given)."""
    out = dict(values)
    if out.get("targname") is not None and "targname_key" not in out:
        out["targname_key"] = targname_key(out["targname"])
    return out


def upsert_metadata(session: Session, filename: str, **values: Any) -> Metadata:
    """Insert or update the ``metadata`` row of ``filename`` (its natural key)."""
    return _upsert(session, Metadata, {"filename": filename}, with_targname_key(values))


def upsert_outputs(session: Session, metadata_id: int, **values: Any) -> Outputs:
    """Insert or update the ``outputs`` row of a metadata row."""
    return _upsert(session, Outputs, {"metadata_id": metadata_id}, values)


def normalise_reasons(reasons: Iterable[str]) -> str:
    """Every failing reason once, in the original's order, joined for the ``reason`` column."""
    given = set(reasons)
    unknown = given - set(BAD_DATA_REASONS)
    if unknown:
        raise ValueError(f"unknown bad-data reason(s): {', '.join(sorted(unknown))}")
    if not given:
        raise ValueError("a bad-data row needs at least one reason")
    return REASON_SEPARATOR.join(r for r in BAD_DATA_REASONS if r in given)


def upsert_bad_data(session: Session, filename: str, reasons: Iterable[str], **values: Any) -> BadData:
    """Insert or update the ``bad_data`` row of ``filename`` with all its failing reasons."""
    values = {"reason": normalise_reasons(reasons), **values}
    values.setdefault("ingest_date", utcnow())
    return _upsert(session, BadData, {"filename": filename}, values)


def upsert_stats(session: Session, lightcurve_filename: str, **values: Any) -> Stats:
    """Insert or update the ``stats`` row of a lightcurve product (by file name)."""
    values.setdefault("computed_at", utcnow())
    return _upsert(session, Stats, {"lightcurve_filename": lightcurve_filename}, values)


__all__ = [
    "Catalog",
    "bulk_upsert",
    "make_engine",
    "masked_url",
    "normalise_reasons",
    "open_if_exists",
    "select_in",
    "targname_key",
    "upsert_bad_data",
    "upsert_metadata",
    "upsert_outputs",
    "upsert_stats",
    "with_targname_key",
]
