"""The catalog's tables, as typed SQLAlchemy 2.0 models.

The original pipeline's four tables (``metadata``, ``outputs``, ``bad_data``, ``stats``) keep their
names and columns; hstlc adds columns it needs (rootname, times, proposal, coordinates, sha256) and the
tables of the target-name resolver. Indexed or unique strings are ``String(255)`` (a file name or a
normalised target name; MySQL cannot index unbounded text); paths are ``Text`` so no real path overflows.

There is no migration tool: :meth:`hstlc.catalog.store.Catalog.upgrade_schema` (run by ``init_schema``
and ``check_schema``) adds to an existing catalog the columns and indexes a newer release defines. A column
added to an existing table must therefore be nullable, without a server default and in no unique
constraint or index; the (non-unique) indexes are created on first use, after any column they need.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME = 255
"""Length of indexed name columns (file names and target names)."""

#: The quality-check reasons, in the order the original pipeline tested them.
BAD_DATA_REASONS: tuple[str, ...] = (
    "Bad EXPFLAG",
    "Non-linear time",
    "No events",
    "Singular event",
    "Bad Proposal",
    "Short Exposure",
)
REASON_SEPARATOR = "; "


def utcnow() -> datetime:
    """Timezone-aware now (stored naive UTC: SQLite and MySQL keep no zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of every hstlc table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Metadata(Base):
    """One ingested exposure (for an FUV pair: one row per segment file, as the original)."""

    __tablename__ = "metadata"
    __table_args__ = (
        UniqueConstraint("filename", name="uq_metadata_filename"),
        Index("ix_metadata_rootname", "rootname"),
        Index("ix_metadata_targname", "targname"),
        Index("ix_metadata_targname_key", "targname_key"),
        Index(
            "ix_metadata_configuration",
            "instrume",
            "detector",
            "targname",
            "opt_elem",
            "cenwave",
            "aperture",
        ),
        # The targets listing reads each target's datasets from this index alone (hstlc targets).
        Index(
            "ix_metadata_target_datasets",
            "targname",
            "rootname",
            "filename",
            "exptime",
            "expstart",
            "expend",
            "proposid",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(NAME))
    path: Mapped[str] = mapped_column(Text)
    ingest_date: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    telescop: Mapped[str | None] = mapped_column(String(32))
    instrume: Mapped[str | None] = mapped_column(String(32))
    targname: Mapped[str | None] = mapped_column(String(NAME))
    cal_ver: Mapped[str | None] = mapped_column(String(64))
    obstype: Mapped[str | None] = mapped_column(String(32))
    cenwave: Mapped[int | None] = mapped_column(Integer)
    aperture: Mapped[str | None] = mapped_column(String(64))
    detector: Mapped[str | None] = mapped_column(String(32))
    opt_elem: Mapped[str | None] = mapped_column(String(32))
    fppos: Mapped[int | None] = mapped_column(Integer)
    # hstlc additions
    rootname: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(16))
    targname_orig: Mapped[str | None] = mapped_column(String(NAME))
    targname_key: Mapped[str | None] = mapped_column(String(NAME))
    """Upper case, whitespace removed: what the resolver matches Sesame aliases against."""
    proposid: Mapped[int | None] = mapped_column(Integer)
    expstart: Mapped[float | None] = mapped_column(Double)
    expend: Mapped[float | None] = mapped_column(Double)
    exptime: Mapped[float | None] = mapped_column(Double)
    ra_targ: Mapped[float | None] = mapped_column(Double)
    dec_targ: Mapped[float | None] = mapped_column(Double)
    sha256: Mapped[str | None] = mapped_column(String(64))

    output: Mapped[Outputs | None] = relationship(
        back_populates="metadata_row", cascade="all, delete-orphan", uselist=False
    )


class Outputs(Base):
    """The products made from one metadata row."""

    __tablename__ = "outputs"
    __table_args__ = (
        UniqueConstraint("metadata_id", name="uq_outputs_metadata_id"),
        # A product's rows by its file name, and its first metadata row from the index alone (listings, show).
        Index("ix_outputs_individual_filename", "individual_filename", "metadata_id"),
        Index("ix_outputs_composite_filename", "composite_filename", "metadata_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metadata_id: Mapped[int] = mapped_column(ForeignKey("metadata.id", ondelete="CASCADE"))
    individual_path: Mapped[str | None] = mapped_column(Text)
    individual_filename: Mapped[str | None] = mapped_column(String(NAME))
    composite_path: Mapped[str | None] = mapped_column(Text)
    composite_filename: Mapped[str | None] = mapped_column(String(NAME))

    metadata_row: Mapped[Metadata] = relationship(back_populates="output")


class BadData(Base):
    """A file rejected by the quality checks; ``reason`` holds every failing reason, '; '-separated."""

    __tablename__ = "bad_data"
    __table_args__ = (UniqueConstraint("filename", name="uq_bad_data_filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(NAME))
    ingest_date: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))

    @property
    def reasons(self) -> list[str]:
        return [r for r in self.reason.split(REASON_SEPARATOR) if r]


class Stats(Base):
    """Variability statistics of one lightcurve product."""

    __tablename__ = "stats"
    __table_args__ = (
        UniqueConstraint("lightcurve_filename", name="uq_stats_lightcurve_filename"),
        # The verdict and the listed statistics of every product without reading ``details`` (listings).
        Index(
            "ix_stats_listing",
            "lightcurve_filename",
            "total",
            "periodogram",
            "variable",
            "best_period",
            "fap",
            "chi2_reduced",
            "chi2_p",
            "method_version",
            "method_settings",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lightcurve_path: Mapped[str] = mapped_column(Text)
    lightcurve_filename: Mapped[str] = mapped_column(String(NAME))
    total: Mapped[float | None] = mapped_column(Double)
    mean: Mapped[float | None] = mapped_column(Double)
    mu: Mapped[float | None] = mapped_column(Double)
    stdev: Mapped[float | None] = mapped_column(Double)
    poisson_factor: Mapped[float | None] = mapped_column(Double)
    pearson_r: Mapped[float | None] = mapped_column(Double)
    pearson_p: Mapped[float | None] = mapped_column(Double)
    periodogram: Mapped[bool] = mapped_column(Boolean, default=False)
    deliver: Mapped[bool] = mapped_column(Boolean, default=False)
    # hstlc additions
    variable: Mapped[bool | None] = mapped_column(Boolean)
    """The χ² verdict: the rate is not constant (``None`` for rows made before the verdict existed)."""
    best_period: Mapped[float | None] = mapped_column(Double)
    """Seconds: the best periodogram peak over the whole grid that is not a window (sampling) peak."""
    fap: Mapped[float | None] = mapped_column(Double)
    """The false-alarm probability of ``best_period`` over the whole search (all trial ranges)."""
    chi2_reduced: Mapped[float | None] = mapped_column(Double)
    """χ² per degree of freedom of the rate against a constant."""
    chi2_p: Mapped[float | None] = mapped_column(Double)
    """Probability of a χ² at least that large if the rate were constant."""
    method_version: Mapped[int | None] = mapped_column(Integer)
    """Version of the statistics method that made the row (older rows can be recomputed)."""
    method_settings: Mapped[str | None] = mapped_column(String(128))
    """The verdict's settings (rule and thresholds) the row was made with, e.g. ``fap<0.001 p<0.001``."""
    product_type: Mapped[str | None] = mapped_column(String(16))
    """``individual`` or ``composite``."""
    product_sha256: Mapped[str | None] = mapped_column(String(64))
    """sha256 of the product when its stats were computed (incremental re-runs compare it)."""
    computed_at: Mapped[datetime | None] = mapped_column(DateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Per-band periodogram summary (best period, power, FAP, peaks, skip reasons)."""


class Alias(Base):
    """A catalog alias-table entry: ``alias`` (as typed by an observer) → canonical target name."""

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("alias", name="uq_aliases_alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alias: Mapped[str] = mapped_column(String(NAME))
    targname: Mapped[str] = mapped_column(String(NAME))
    source: Mapped[str | None] = mapped_column(String(64))
    added: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SesameCache(Base):
    """A cached Sesame reply (including "nothing found") for one queried name, and its last failure.

    ``failed_at``/``failure`` form the negative cache: a lookup that failed (Sesame unreachable, an
    HTTP error, an unusable reply) is not retried before ``resolver_retry_hours`` have passed. A name
    that never got a reply has only a failure: its ``fetched_at`` is :data:`NO_REPLY` (so an older
    hstlc sees an expired "nothing found" and asks again). A reply clears the failure.
    """

    __tablename__ = "sesame_cache"
    __table_args__ = (UniqueConstraint("query", name="uq_sesame_cache_query"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    query: Mapped[str] = mapped_column(String(NAME))
    found: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[Any] | None] = mapped_column(JSON)
    ra: Mapped[float | None] = mapped_column(Double)
    dec: Mapped[float | None] = mapped_column(Double)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # added for the negative cache (nullable: upgrade_schema adds them to older catalogs)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    """When the last lookup failed (``None``: the last lookup got a reply)."""
    failure: Mapped[str | None] = mapped_column(Text)
    """Why it failed, e.g. ``cds.unistra.fr: no reply within sesame_timeout=10 s``."""


#: ``sesame_cache.fetched_at`` of a row that records a failure but no reply.
NO_REPLY = datetime(1970, 1, 1)


class IngestDataset(Base):
    """Ingest's record of one dataset (rootname): its done-marker, its filing journal, or its failure.

    ``status`` is ``done`` (catalogued, files filed), ``bad`` (quarantined in ``bad_data_dir``),
    ``failed`` (left where it was; ``reason`` says why), or ``filing``/``quarantining`` while its files
    are being moved: then ``plan`` holds the moves and the catalog rows still to commit, so a re-run can
    finish what a killed run started. ``fingerprint`` is the sha256 over the input files' names and
    sha256s; ``files`` lists each file with its sha256 and where it now is.
    """

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("rootname", name="uq_datasets_rootname"),
        Index("ix_datasets_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rootname: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    files: Mapped[list[Any] | None] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    primary_path: Mapped[str | None] = mapped_column(Text)
    """The event file extraction reads (FUV: ``_corrtag_a`` if present; STIS: the corrtag)."""
    config_key: Mapped[str | None] = mapped_column(String(64))
    """Hash of the composite configuration (instrume, detector, targname, opt_elem, cenwave, aperture)."""
    config: Mapped[list[Any] | None] = mapped_column(JSON)
    """That configuration: [instrume, detector, targname, opt_elem, cenwave, aperture]."""
    targname: Mapped[str | None] = mapped_column(String(NAME))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CompositeQueue(Base):
    """A composite configuration that gained, lost or changed a member and must be (re)built."""

    __tablename__ = "composite_queue"
    __table_args__ = (UniqueConstraint("config_key", name="uq_composite_queue_config_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    config_key: Mapped[str] = mapped_column(String(64))
    config: Mapped[list[Any]] = mapped_column(JSON)
    """[instrume, detector, targname, opt_elem, cenwave, aperture]."""
    added: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IngestLock(Base):
    """The one-row lock that keeps two ``hstlc ingest`` runs off the same catalog (any host)."""

    __tablename__ = "ingest_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    """A random token of the holding run (compare-and-swap key for heartbeat, takeover and release)."""
    host: Mapped[str] = mapped_column(String(NAME))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    command: Mapped[str | None] = mapped_column(Text)


__all__ = [
    "BAD_DATA_REASONS",
    "NAME",
    "NO_REPLY",
    "REASON_SEPARATOR",
    "Alias",
    "BadData",
    "Base",
    "CompositeQueue",
    "IngestDataset",
    "IngestLock",
    "Metadata",
    "Outputs",
    "SesameCache",
    "Stats",
    "utcnow",
]
