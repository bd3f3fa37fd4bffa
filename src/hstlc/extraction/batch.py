"""``hstlc extract``: :func:`extract_paths` extracts each given file to a product (and, if asked, their
composite), recording each dataset's outcome (:class:`ExtractOutcome`) instead of stopping at the first
failure; :class:`ExtractReport` is what the command renders."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import Dataset, LightCurve
from hstlc.errors import ExtractionError, HstlcError
from hstlc.extraction.composite import _dataset_key, make_composite
from hstlc.extraction.engine import extract_dataset
from hstlc.extraction.params import ExtractionParams
from hstlc.readers import read_dataset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractOutcome:
    """One dataset (or the composite) of an :func:`extract_paths` run: its product or its error."""

    name: str
    product: Path | None = None
    bins: int = 0
    total_counts: float = 0.0
    mean_rate: float = 0.0
    flux_calibrated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ExtractReport:
    """Everything :func:`extract_paths` did: per-dataset outcomes and the composite's (if asked)."""

    outcomes: tuple[ExtractOutcome, ...]
    composite: ExtractOutcome | None = None

    @property
    def failed(self) -> tuple[ExtractOutcome, ...]:
        done = [*self.outcomes, *([self.composite] if self.composite else [])]
        return tuple(o for o in done if not o.ok)


def _outcome(name: str, curve: LightCurve, product: Path | None) -> ExtractOutcome:
    exposure = float(np.sum(curve.bins))
    counts = float(np.sum(curve.counts))
    return ExtractOutcome(
        name=name,
        product=product,
        bins=len(curve),
        total_counts=counts,
        mean_rate=counts / exposure if exposure > 0 else 0.0,
        flux_calibrated=curve.meta.get("FLUXCAL") == "CALIBRATED",
    )


def extract_paths(
    paths: Sequence[str | os.PathLike[str]],
    params: ExtractionParams,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    composite: str | os.PathLike[str] | None = None,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: Any = None,
) -> ExtractReport:
    """``hstlc extract``: each distinct dataset among ``paths`` → ``<output_dir>/<rootname>_curve.fits``
    (when ``output_dir`` is given) and, with ``composite``, all of them stacked into that file (a folder
    gets the HLSP composite name). A file that fails is reported in its outcome; the others go on.
    ``progress`` (optional) is called with each finished outcome."""
    from hstlc.products import composite_filename, individual_filename, write_lightcurve

    outcomes: list[ExtractOutcome] = []

    def done(outcome: ExtractOutcome) -> None:
        outcomes.append(outcome)
        if outcome.error:
            log.info("%s", outcome.error)  # the caller reports failures (the CLI prints one Error: line)
        if progress is not None:
            progress(outcome)

    seen: set[str] = set()
    good: list[Dataset] = []
    for path in paths:
        name = Path(path).name
        try:
            dataset = read_dataset(path, lref_dir=lref_dir, oref_dir=oref_dir)
        except HstlcError as exc:
            done(ExtractOutcome(name=name, error=str(exc)))
            continue
        key = _dataset_key(dataset)
        if key in seen:
            continue
        seen.add(key)
        if output_dir is None:
            good.append(dataset)
            continue
        try:
            curve = extract_dataset(dataset, params, lref_dir=lref_dir)
            target = Path(output_dir) / individual_filename(dataset.observation.rootname or key)
            product = write_lightcurve(curve, target, overwrite=overwrite)
        except HstlcError as exc:
            done(ExtractOutcome(name=dataset.observation.rootname or name, error=str(exc)))
            continue
        good.append(dataset)
        done(_outcome(dataset.observation.rootname or name, curve, product))
        del curve

    composite_outcome = None
    if composite is not None:
        try:
            if not good:
                raise ExtractionError("composite: none of the given files could be read")
            curve = make_composite(good, params, lref_dir=lref_dir, oref_dir=oref_dir)
            target = Path(composite)
            if target.is_dir():
                m = curve.meta

                def first(key: str) -> Any:
                    value = m.get(key)
                    if isinstance(value, list | tuple):
                        return value[0] if len(set(map(str, value))) == 1 else "multi"
                    return value

                target = target / composite_filename(
                    first("INSTRUME"), first("DETECTOR"), str(m.get("TARGNAME", "")), first("OPT_ELEM"),
                    first("CENWAVE"), first("APERTURE"),
                )
            product = write_lightcurve(curve, target, overwrite=overwrite)
            label = f"composite ({curve.meta.get('NMEMBERS', 0)} datasets)"
            composite_outcome = _outcome(label, curve, product)
        except HstlcError as exc:
            composite_outcome = ExtractOutcome(name="composite", error=str(exc))
            log.info("%s", exc)  # reported by the caller through the outcome
        if progress is not None:
            progress(composite_outcome)
    return ExtractReport(tuple(outcomes), composite_outcome)
