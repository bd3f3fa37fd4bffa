"""What the extraction engine and the instrument modules share: the per-dataset bookkeeping
(:class:`_Context`: notes, meta keywords, calibration problems, reference tables read), the
:class:`Instrument` record an instrument module hands the engine, and header-keyword access."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import Dataset, Segment, finite_float
from hstlc.extraction.params import ExtractionParams
from hstlc.science.lightcurve import SegmentSpec

log = logging.getLogger(__name__)


@dataclass
class _Context:
    """Per-dataset bookkeeping while building the extraction: notes for the header and the log, meta
    keywords, why the flux or its TDS correction could not be calibrated, and the reference tables read
    (``tables``: header keyword → table, None when unusable; ``table_reasons``: keyword → why not)."""

    name: str
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    flux_problems: list[str] = field(default_factory=list)
    tds_problems: list[str] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    table_reasons: dict[str, str] = field(default_factory=dict)

    def note(self, text: str, *, warn: bool = True) -> None:
        if text not in self.notes:
            self.notes.append(text)
        (log.warning if warn else log.info)("%s: %s", self.name, text)


#: A segment's :class:`SegmentSpec` and its meta keywords: ``(ctx, dataset, segment, params, lref_dir)``.
SpecBuilder = Callable[
    [_Context, Dataset, Segment, ExtractionParams, Any], tuple[SegmentSpec, dict[str, Any]]
]
#: The good time without what the instrument removes: ``(ctx, built, offsets, gti) -> gti``.
GoodTimeCut = Callable[
    [_Context, Sequence[tuple[Segment, SegmentSpec]], Sequence[float], np.ndarray], np.ndarray
]


@dataclass(frozen=True)
class Instrument:
    """What the engine asks of an instrument module (the registry in :mod:`hstlc.extraction.engine`
    maps INSTRUME to one): the spec builder, the meta of a flux-calibrated curve (TDSCORR, FLUXNOTE),
    the background-scale keyword of a channel, and an optional cut of the good time."""

    build_spec: SpecBuilder
    calibrated_meta: Callable[[_Context, Dataset], dict[str, Any]]
    background_key: Callable[[str], str]
    cut_good_time: GoodTimeCut | None = None


def _kw(keywords: Mapping[str, Any], key: str) -> Any:
    value = keywords.get(key)
    if value is None:
        value = keywords.get(key.upper())
    return value


def _float_kw(keywords: Mapping[str, Any], key: str) -> float | None:
    return finite_float(_kw(keywords, key))


def _segment_label(segment: Segment) -> str:
    return Path(segment.source_file).name if segment.source_file else segment.name
