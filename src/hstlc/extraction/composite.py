"""Composites: :func:`make_composite` stacks several datasets of one configuration (grouped by
:func:`group_key`) into one lightcurve, trimmed to the wavelength range every member's extraction boxes
share; :func:`load_datasets` reads each distinct dataset once."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hstlc.domain import MEMBER_KEYS, SECONDS_PER_DAY, Dataset, LightCurve, Observation, stack_curves
from hstlc.errors import ExtractionError, HstlcError
from hstlc.extraction.engine import MemberWindow, _extract, _identity_meta, member_window
from hstlc.extraction.params import ExtractionParams
from hstlc.readers import read_dataset, split_name

log = logging.getLogger(__name__)


def group_key(observation: Observation, targname: str | None = None) -> tuple[str, ...]:
    """Composite grouping key: (instrume, detector, targname, opt_elem, cenwave, aperture), upper case."""
    name = targname if targname else observation.targname
    return tuple(
        str(v).strip().upper()
        for v in (
            observation.instrume,
            observation.detector,
            name,
            observation.opt_elem,
            observation.cenwave,
            observation.aperture,
        )
    )


def _dataset_key(dataset: Dataset) -> str:
    return (dataset.observation.rootname or dataset.observation.filename).lower()


def load_datasets(
    items: Iterable[str | os.PathLike[str] | Dataset],
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
) -> tuple[list[Dataset], list[tuple[str, str]]]:
    """Read each distinct dataset once (an FUV pair named by both files is one); unreadable items are
    returned as (name, reason) pairs instead of raising."""
    datasets: list[Dataset] = []
    failed: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Dataset):
            dataset = item
        else:
            try:
                dataset = read_dataset(item, lref_dir=lref_dir, oref_dir=oref_dir)
            except HstlcError as exc:
                failed.append((Path(item).name, str(exc)))
                continue
        key = _dataset_key(dataset)
        if key in seen:
            continue
        seen.add(key)
        datasets.append(dataset)
    return datasets, failed


def _member_name(item: str | os.PathLike[str] | Dataset) -> str:
    if isinstance(item, Dataset):
        return _dataset_key(item)
    try:
        return split_name(item)[0].lower()
    except HstlcError:
        return Path(item).name


def make_composite(
    paths_or_datasets: Sequence[str | os.PathLike[str] | Dataset],
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
    windows: Mapping[str, MemberWindow] | None = None,
) -> LightCurve:
    """Stack several datasets into one lightcurve (DATASET 1..n in time order).

    The wavelength range is trimmed to what every member's extraction boxes share (each member's
    selected source events, not the whole detector); members that cannot be read or have no valid
    events are left out with a logged reason. TIMES are seconds since the earliest member's EXPSTART
    (monotonic); identity keywords are per-member lists (the product writer turns differing values into
    ``MULTI`` plus numbered keywords).

    Members given as paths are read one at a time (once for their window, once to extract), so a
    composite of many long exposures needs the memory of one. ``windows`` maps a member path (as given)
    to its :class:`MemberWindow` from an extraction with the same ``params`` (ingest knows it from the
    member's own lightcurve): such a member is read only once.
    """
    known = {str(k): v for k, v in (windows or {}).items()}
    failed: list[tuple[str, str]] = []
    first_pass: list[tuple[str | os.PathLike[str] | Dataset, MemberWindow]] = []
    seen: set[str] = set()
    for item in paths_or_datasets:
        window = None if isinstance(item, Dataset) else known.get(str(item))
        if window is not None:
            name = _member_name(item)
        else:
            loaded, problems = load_datasets([item], lref_dir=lref_dir, oref_dir=oref_dir)
            if problems:
                log.warning("composite: %s left out: %s", *problems[0])
                failed.extend(problems)
                continue
            name = _dataset_key(loaded[0])
            if name in seen:
                continue
            try:
                window = member_window(loaded[0], params, lref_dir=lref_dir)
            except HstlcError as exc:
                log.warning("composite: %s left out: %s", name, exc)
                failed.append((name, str(exc)))
                seen.add(name)
                continue
            del loaded  # a path is read again to extract: one member in memory at a time
        if name in seen:
            continue
        seen.add(name)
        first_pass.append((item, window))
    if not first_pass:
        detail = "; ".join(f"{n}: {r}" for n, r in failed) or "no datasets given"
        raise ExtractionError(f"composite: no member has valid events ({detail})")

    spectroscopic = [w for _, w in first_pass if not w.imaging]
    wmin = wmax = None
    if spectroscopic:
        wmin = max(w.wavelength_min for w in spectroscopic)
        wmax = min(w.wavelength_max for w in spectroscopic)
        if params.wmin is not None:
            wmin = max(wmin, params.wmin)
        if params.wmax is not None:
            wmax = min(wmax, params.wmax)
        if not wmin < wmax:
            raise ExtractionError(
                f"composite: the members share no wavelength range (common window {wmin:.2f}–{wmax:.2f} Å)"
            )
    trimmed = replace(params, wmin=wmin, wmax=wmax) if spectroscopic else params
    force_uncal = not all(w.calibrated for _, w in first_pass)
    members: list[tuple[Observation, LightCurve]] = []
    for item, _ in first_pass:
        name = _member_name(item)
        try:
            dataset = item if isinstance(item, Dataset) else read_dataset(item, lref_dir=lref_dir,
                                                                          oref_dir=oref_dir)
            name = _dataset_key(dataset)
            final = _extract(
                dataset,
                trimmed,
                lref_dir=lref_dir,
                targname=targname,
                force_uncalibrated=force_uncal,
            )
        except HstlcError as exc:
            log.warning("composite: %s left out after trimming to %s–%s Å: %s", name, wmin, wmax, exc)
            continue
        members.append((dataset.observation, final.curve))
        del dataset
    if not members:
        raise ExtractionError("composite: no member has valid events in the common wavelength range")
    members.sort(key=lambda m: (m[0].expstart, (m[0].rootname or m[0].filename).lower()))
    t0 = members[0][0].expstart

    merged = stack_curves([curve for _, curve in members],
                          [(observation.expstart - t0) * SECONDS_PER_DAY for observation, _ in members])

    metas = [curve.meta for _, curve in members]
    obs0 = members[0][0]
    meta: dict[str, Any] = _identity_meta(obs0, targname)
    for key in MEMBER_KEYS:
        meta[key] = [m.get(key) for m in metas]
    meta["EXPSTART"] = min(o.expstart for o, _ in members)
    meta["EXPEND"] = max(o.expend for o, _ in members)
    meta["STEPSIZE"] = float(params.step)
    if wmin is not None and wmax is not None:
        meta["WMIN"], meta["WMAX"] = float(wmin), float(wmax)
    meta["AIRGLOW"] = not params.keep_airglow
    if params.max_sun_alt is not None:
        meta["MAXSUNAL"] = float(params.max_sun_alt)
    meta["TIMEPIXR"] = 0.0
    meta["NMEMBERS"] = len(members)
    if all(m.get("FLUXCAL") == "CALIBRATED" for m in metas):
        meta["FLUXCAL"] = "CALIBRATED"
        notes = [str(m["FLUXNOTE"]) for m in metas if m.get("FLUXNOTE")]
        if notes:
            meta["FLUXNOTE"] = "; ".join(dict.fromkeys(notes))
    else:
        meta["FLUXCAL"] = "UNCALIBRATED"
        reasons = [f"{m.get('ROOTNAME')}: {m.get('FLUXNOTE')}" for m in metas if m.get("FLUXNOTE")]
        meta["FLUXNOTE"] = "unity sensitivity for all members; " + "; ".join(dict.fromkeys(reasons))
    sources = [s for m in metas for k, s in sorted(m.items()) if k.startswith("SRCFILE")]
    for i, src in enumerate(sources, start=1):
        meta[f"SRCFILE{i}"] = src
    left_out = [name for name, _ in failed]
    if left_out:
        meta["NOTE1"] = "left out: " + ", ".join(left_out)
    return LightCurve(**merged, meta=meta)
