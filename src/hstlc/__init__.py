"""hstlc: calibrated, GTI-aware lightcurves from HST COS and STIS TIME-TAG event files.

The library API is listed in ``__all__``; the ``hstlc`` command is a thin layer over it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hstlc")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.1.0"

from hstlc.checks import CheckResult, run_checks
from hstlc.config import Settings, load_settings
from hstlc.demo import DemoResult, run_demo
from hstlc.domain import EventList, LightCurve, Observation
from hstlc.errors import (
    CatalogError,
    ConfigError,
    ExtractionError,
    FilingError,
    HstlcError,
    InputFileError,
    ResolverError,
    UnsupportedProductError,
)
from hstlc.extraction import (
    ExtractionParams,
    extract_dataset,
    extract_file,
    extract_paths,
    group_key,
    make_composite,
)
from hstlc.filing import ensure_dir, move_file
from hstlc.naming import safe_component, safe_join
from hstlc.pipeline import IngestSummary, ingest
from hstlc.products import (
    composite_filename,
    file_sha256,
    individual_filename,
    read_lightcurve,
    write_lightcurve,
)
from hstlc.quality import CheckOutcome, check_dataset, check_paths
from hstlc.readers import (
    DatasetFiles,
    ProductKind,
    companion_files,
    detect_product,
    read_dataset,
    read_event_times,
    read_observation,
)
from hstlc.resolver import Resolution, resolve_target, resolve_targets
from hstlc.stis_corrtag import write_stis_corrtag

__all__ = [
    "CatalogError",
    "CheckOutcome",
    "CheckResult",
    "ConfigError",
    "DatasetFiles",
    "DemoResult",
    "EventList",
    "ExtractionError",
    "ExtractionParams",
    "FilingError",
    "HstlcError",
    "IngestSummary",
    "InputFileError",
    "LightCurve",
    "Observation",
    "ProductKind",
    "Resolution",
    "ResolverError",
    "Settings",
    "UnsupportedProductError",
    "__version__",
    "check_dataset",
    "check_paths",
    "companion_files",
    "composite_filename",
    "detect_product",
    "ensure_dir",
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
    "read_dataset",
    "read_event_times",
    "read_lightcurve",
    "read_observation",
    "resolve_target",
    "resolve_targets",
    "run_checks",
    "run_demo",
    "safe_component",
    "safe_join",
    "write_lightcurve",
    "write_stis_corrtag",
]
