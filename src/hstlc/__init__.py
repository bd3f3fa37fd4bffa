"""hstlc: calibrated, GTI-aware lightcurves from HST COS and STIS TIME-TAG event files.

The library API is listed in ``__all__``; the ``hstlc`` command is a thin layer over it. Names are
imported on first use (PEP 562), so ``import hstlc`` and the command line start fast and a worker
process loads only what it needs.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("hstlc")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.1.0"

#: Public name → the module that defines it.
_API: dict[str, str] = {
    "Catalog": "hstlc.catalog",
    "CatalogFilter": "hstlc.catalog.listings",
    "ProductSummary": "hstlc.catalog.listings",
    "TargetSummary": "hstlc.catalog.listings",
    "parse_since": "hstlc.catalog.listings",
    "BandPeriod": "hstlc.catalog.show",
    "CatalogEntry": "hstlc.catalog.show",
    "DatasetEntry": "hstlc.catalog.show",
    "DatasetFile": "hstlc.catalog.show",
    "ProductEntry": "hstlc.catalog.show",
    "RejectedFile": "hstlc.catalog.show",
    "CheckResult": "hstlc.science.checks",
    "run_checks": "hstlc.science.checks",
    "Settings": "hstlc.config",
    "load_settings": "hstlc.config",
    "DemoResult": "hstlc.demo",
    "run_demo": "hstlc.demo",
    "Dataset": "hstlc.domain",
    "EventList": "hstlc.domain",
    "LightCurve": "hstlc.domain",
    "Observation": "hstlc.domain",
    "Segment": "hstlc.domain",
    "CatalogError": "hstlc.errors",
    "ConfigError": "hstlc.errors",
    "ExtractionError": "hstlc.errors",
    "FilingError": "hstlc.errors",
    "HstlcError": "hstlc.errors",
    "IngestLockedError": "hstlc.errors",
    "InputFileError": "hstlc.errors",
    "ResolverError": "hstlc.errors",
    "UnsupportedProductError": "hstlc.errors",
    "ExtractionParams": "hstlc.extraction",
    "extract_dataset": "hstlc.extraction",
    "extract_file": "hstlc.extraction",
    "extract_paths": "hstlc.extraction",
    "group_key": "hstlc.extraction",
    "make_composite": "hstlc.extraction",
    "ExportResult": "hstlc.export",
    "export_products": "hstlc.export",
    "export_targets": "hstlc.export",
    "ensure_dir": "hstlc.filing",
    "move_file": "hstlc.filing",
    "safe_component": "hstlc.safe_paths",
    "safe_join": "hstlc.safe_paths",
    "IngestSummary": "hstlc.ingestion",
    "ingest": "hstlc.ingestion",
    "composite_filename": "hstlc.products",
    "file_sha256": "hstlc.products",
    "individual_filename": "hstlc.products",
    "read_lightcurve": "hstlc.products",
    "read_timeseries": "hstlc.products",
    "to_lightkurve": "hstlc.products",
    "write_lightcurve": "hstlc.products",
    "CheckOutcome": "hstlc.file_checks",
    "check_dataset": "hstlc.file_checks",
    "check_paths": "hstlc.file_checks",
    "DatasetFiles": "hstlc.readers",
    "ProductKind": "hstlc.readers",
    "companion_files": "hstlc.readers",
    "detect_product": "hstlc.readers",
    "read_dataset": "hstlc.readers",
    "read_event_times": "hstlc.readers",
    "read_observation": "hstlc.readers",
    "ReportResult": "hstlc.report",
    "build_report": "hstlc.report",
    "Resolution": "hstlc.resolver",
    "resolve_target": "hstlc.resolver",
    "resolve_targets": "hstlc.resolver",
    "LightCurveStats": "hstlc.science.variability",
    "PeriodSearch": "hstlc.science.periodogram",
    "compute_stats": "hstlc.science.variability",
    "search_periods": "hstlc.science.periodogram",
    "run_stats": "hstlc.product_stats",
    "stats_for_file": "hstlc.product_stats",
    "write_stis_corrtag": "hstlc.stis_corrtag",
}

__all__ = [
    "BandPeriod",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "CatalogFilter",
    "CheckOutcome",
    "CheckResult",
    "ConfigError",
    "Dataset",
    "DatasetEntry",
    "DatasetFile",
    "DatasetFiles",
    "DemoResult",
    "EventList",
    "ExportResult",
    "ExtractionError",
    "ExtractionParams",
    "FilingError",
    "HstlcError",
    "IngestLockedError",
    "IngestSummary",
    "InputFileError",
    "LightCurve",
    "LightCurveStats",
    "Observation",
    "PeriodSearch",
    "ProductEntry",
    "ProductKind",
    "ProductSummary",
    "RejectedFile",
    "ReportResult",
    "Resolution",
    "ResolverError",
    "Segment",
    "Settings",
    "TargetSummary",
    "UnsupportedProductError",
    "__version__",
    "build_report",
    "check_dataset",
    "check_paths",
    "companion_files",
    "composite_filename",
    "compute_stats",
    "detect_product",
    "ensure_dir",
    "export_products",
    "export_targets",
    "extract_dataset",
    "extract_file",
    "extract_paths",
    "file_sha256",
    "group_key",
    "individual_filename",
    "ingest",
    "load_settings",
    "make_composite",
    "move_file",
    "parse_since",
    "read_dataset",
    "read_event_times",
    "read_lightcurve",
    "read_observation",
    "read_timeseries",
    "resolve_target",
    "resolve_targets",
    "run_checks",
    "run_demo",
    "run_stats",
    "safe_component",
    "safe_join",
    "search_periods",
    "stats_for_file",
    "to_lightkurve",
    "write_lightcurve",
    "write_stis_corrtag",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'hstlc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:  # let type checkers and IDEs see the real objects
    from hstlc.catalog import Catalog
    from hstlc.catalog.listings import CatalogFilter, ProductSummary, TargetSummary, parse_since
    from hstlc.catalog.show import (
        BandPeriod,
        CatalogEntry,
        DatasetEntry,
        DatasetFile,
        ProductEntry,
        RejectedFile,
    )
    from hstlc.config import Settings, load_settings
    from hstlc.demo import DemoResult, run_demo
    from hstlc.domain import Dataset, EventList, LightCurve, Observation, Segment
    from hstlc.errors import (
        CatalogError,
        ConfigError,
        ExtractionError,
        FilingError,
        HstlcError,
        IngestLockedError,
        InputFileError,
        ResolverError,
        UnsupportedProductError,
    )
    from hstlc.export import ExportResult, export_products, export_targets
    from hstlc.extraction import (
        ExtractionParams,
        extract_dataset,
        extract_file,
        extract_paths,
        group_key,
        make_composite,
    )
    from hstlc.file_checks import CheckOutcome, check_dataset, check_paths
    from hstlc.filing import ensure_dir, move_file
    from hstlc.ingestion import IngestSummary, ingest
    from hstlc.product_stats import run_stats, stats_for_file
    from hstlc.products import (
        composite_filename,
        file_sha256,
        individual_filename,
        read_lightcurve,
        read_timeseries,
        to_lightkurve,
        write_lightcurve,
    )
    from hstlc.readers import (
        DatasetFiles,
        ProductKind,
        companion_files,
        detect_product,
        read_dataset,
        read_event_times,
        read_observation,
    )
    from hstlc.report import ReportResult, build_report
    from hstlc.resolver import Resolution, resolve_target, resolve_targets
    from hstlc.safe_paths import safe_component, safe_join
    from hstlc.science.checks import CheckResult, run_checks
    from hstlc.science.periodogram import PeriodSearch, search_periods
    from hstlc.science.variability import LightCurveStats, compute_stats
    from hstlc.stis_corrtag import write_stis_corrtag
