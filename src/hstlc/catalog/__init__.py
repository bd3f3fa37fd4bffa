"""All of hstlc's database code: the schema, the engine and the natural-key upserts."""

from hstlc.catalog.schema import (
    BAD_DATA_REASONS,
    Alias,
    BadData,
    Base,
    Metadata,
    Outputs,
    SesameCache,
    Stats,
)
from hstlc.catalog.store import (
    Catalog,
    make_engine,
    masked_url,
    normalise_reasons,
    upsert_bad_data,
    upsert_metadata,
    upsert_outputs,
    upsert_stats,
)

__all__ = [
    "BAD_DATA_REASONS",
    "Alias",
    "BadData",
    "Base",
    "Catalog",
    "Metadata",
    "Outputs",
    "SesameCache",
    "Stats",
    "make_engine",
    "masked_url",
    "normalise_reasons",
    "upsert_bad_data",
    "upsert_metadata",
    "upsert_outputs",
    "upsert_stats",
]
