"""COS TAGFLASH lamp flashes (issue 13 item 6): the wavecal lamp's wings raise the background band by
~40 % during each flash (FORMATS.md §9). The flashes are found from the file (calcos' LMP_ONi/LMPOFFi
keywords, and the count rate outside the source bands) and removed from the good time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.extraction import ExtractionParams, extract_file
from hstlc.science.background import (
    exclude_intervals,
    excluded_time,
    find_lamp_flashes,
    keyword_flash_intervals,
)
from hstlc.science.gti import exposure_per_bin
from hstlc.synthetic.cos import LAMP_Y, make_cos_fuv

# Flashes deliberately not on the 10 s bin grid, so bins straddle their edges; the first at the start.
FLASHES = [[0.0, 23.0], [503.0, 526.0], [1004.5, 1027.5], [1506.0, 1529.0]]
STEP = 10.0


def _faint(tmp_path: Path, name: str, **kw):
    # A faint source (2 c/s per segment) on a strong background (0.25 c/s per row: 20 c/s per band pair).
    return make_cos_fuv(tmp_path / name, exptime=2000.0, source_rate=2.0, background_rate=0.25,
                        lamp_flashes=FLASHES, seed=21, **kw)


def _flash_bins(lc) -> np.ndarray:
    t = lc.times
    hit = np.zeros(len(t), dtype=bool)
    for on, off in FLASHES:
        hit |= (t < off) & (t + STEP > on)
    return hit


def _band_rate_ratio(lc) -> tuple[float, float]:
    """(background rate in the bins touching a flash / in the others, its 1σ from the band counts);
    rates are exposure-weighted (Σ BACKGROUND / Σ BINS)."""
    hit = _flash_bins(lc)
    inside = lc.background[hit].sum() / lc.bins[hit].sum()
    outside = lc.background[~hit].sum() / lc.bins[~hit].sum()
    n_in = lc.background[hit].sum() / float(lc.meta["BKGSCL_A"])  # band events behind it
    return inside / outside, inside / outside / np.sqrt(n_in)


def _net_bias(lc) -> tuple[float, float]:
    """(NET in the bins touching a flash − NET in the others, its 1σ), exposure-weighted, counts/s."""
    hit = _flash_bins(lc)
    inside = lc.counts[hit].sum() / lc.bins[hit].sum()
    outside = lc.counts[~hit].sum() / lc.bins[~hit].sum()
    return float(inside - outside), float(np.sqrt(np.sum(lc.error[hit] ** 2)) / lc.bins[hit].sum())


def test_generator_writes_tagflash_calcos_flash_keywords_and_wing_counts(tmp_path: Path) -> None:
    ds = _faint(tmp_path, "g")
    primary = fits.getheader(ds.event_files[0], 0)
    events = fits.getheader(ds.event_files[0], 1)
    assert primary["TAGFLASH"] == "AUTO" and "TAGFLASH" not in events
    assert events["NUMFLASH"] == 4
    for i, (on, off) in enumerate(FLASHES, start=1):
        assert (events[f"LMP_ON{i}"], events[f"LMPOFF{i}"]) == (on, off)
        assert events[f"LMPDUR{i}"] == pytest.approx(off - on)
        assert events[f"LMPMED{i}"] == pytest.approx((on + off) / 2)
    seg = ds.truth["segments"]["FUVA"]
    flash_time = sum(off - on for on, off in FLASHES)
    # The wings raise both background bands (40 rows each) by 40 % of 0.25 c/s per row.
    expected = 0.4 * 0.25 * 80 * flash_time
    assert seg["n_lamp_wing"] == pytest.approx(expected, abs=4 * np.sqrt(expected))
    assert seg["n_lamp"] == pytest.approx(300.0 * flash_time, rel=0.05)
    with fits.open(ds.event_files[0]) as hdul:
        d = hdul["EVENTS"].data
        t, y = d["TIME"].astype(float), d["YCORR"]
    lit = np.zeros(len(t), dtype=bool)
    for on, off in FLASHES:
        lit |= (t >= on) & (t < off)
    stripe = np.abs(y - LAMP_Y["FUVA"]) < 10
    rate_lit = np.sum(stripe & lit) / flash_time
    rate_dark = np.sum(stripe & ~lit) / (2000.0 - flash_time)
    assert rate_lit == pytest.approx(300.0 + rate_dark, rel=0.05)  # the stripe is lit only in flashes
    assert rate_dark == pytest.approx(0.25 * 20, rel=0.1)  # the flat background of its 20 rows


def test_plain_files_have_no_tagflash_and_no_flash_cut(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, exptime=300.0, seed=1)
    assert "TAGFLASH" not in fits.getheader(ds.event_files[0], 0)
    lc = extract_file(ds.event_files[0], ExtractionParams(step=STEP))
    assert "FLASHCUT" not in lc.meta


def test_background_during_flashes_no_longer_biased(tmp_path: Path) -> None:
    # The same events twice: as written (TAGFLASH = 'AUTO' + keywords) and with every flash card deleted,
    # which is how hstlc treated TAGFLASH files before (no cut).
    flagged = _faint(tmp_path, "flagged")
    unflagged = _faint(tmp_path, "plain", flash_keywords=False, primary_header={"TAGFLASH": None})
    params = ExtractionParams(step=STEP)
    before = extract_file(unflagged.event_files[0], params)
    after = extract_file(flagged.event_files[0], params)

    ratio_before, sigma_before = _band_rate_ratio(before)
    ratio_after, sigma_after = _band_rate_ratio(after)
    # Measured (seed 21): before 1.330 ± 0.019 (the wings' +40 % over the 77 % of these bins' time that is
    # flash), after 1.033 ± 0.041 (bins touching a flash keep only their flash-free time).
    assert ratio_before > 1.25 + 3 * sigma_before
    assert abs(ratio_after - 1.0) < max(3 * sigma_after, 0.05)

    # NET in the bins touching a flash: biased low by b · 0.4 · band rate before, unbiased after.
    bias_before, err_before = _net_bias(before)  # measured −4.68 ± 0.45 c/s (mean NET 3.6 c/s)
    bias_after, err_after = _net_bias(after)  # measured −1.47 ± 1.05 c/s
    assert bias_before < -3 * err_before
    assert abs(bias_after) < 3 * err_after
    assert after.meta["FLASHCUT"] == "APPLIED" and after.meta["NFLASH"] == 4
    flash_time = sum(off - on for on, off in FLASHES)
    assert flash_time <= after.meta["FLASHEXP"] <= flash_time + 4 * 2.4  # ≤ 1.2 s of padding per edge
    assert any("4 wavecal lamp flash(es)" in str(v) for k, v in after.meta.items() if k.startswith("NOTE"))
    assert before.bins.sum() - after.bins.sum() == pytest.approx(after.meta["FLASHEXP"], abs=1e-6)


def test_flashes_found_from_the_count_rate_without_keywords(tmp_path: Path) -> None:
    ds = _faint(tmp_path, "nokw", flash_keywords=False)
    assert "NUMFLASH" not in fits.getheader(ds.event_files[0], 1)
    lc = extract_file(ds.event_files[0], ExtractionParams(step=1.0))
    assert lc.meta["FLASHCUT"] == "APPLIED" and lc.meta["NFLASH"] == 4
    note = next(str(v) for k, v in lc.meta.items() if k.startswith("NOTE") and "lamp flash" in str(v))
    assert "count rate outside the source bands" in note and "keywords" not in note
    # No bin starts inside a flash; each flash costs at most one padding bin on either side.
    for on, off in FLASHES:
        assert not np.any((lc.times >= np.floor(on)) & (lc.times < np.ceil(off) - 1))
    flash_time = sum(off - on for on, off in FLASHES)
    assert flash_time <= lc.meta["FLASHEXP"] <= flash_time + 4 * 4.0


def test_keywords_alone_when_the_stripe_is_not_seen(tmp_path: Path) -> None:
    # Without the wavecal stripe (lamp_rate 0) the wings alone (+40 % of a band) are too weak for the rate
    # search: the keywords still place the flashes; without keywords nothing is found and the note says so.
    with_kw = _faint(tmp_path, "kw", lamp_rate=0.0)
    lc = extract_file(with_kw.event_files[0], ExtractionParams(step=STEP))
    assert lc.meta["FLASHCUT"] == "APPLIED" and lc.meta["NFLASH"] == 4
    note = next(str(v) for k, v in lc.meta.items() if k.startswith("NOTE") and "lamp flash" in str(v))
    assert "LMP_ON/LMPOFF keywords" in note and "count rate" not in note

    bare = _faint(tmp_path, "bare", lamp_rate=0.0, flash_keywords=False)
    lc = extract_file(bare.event_files[0], ExtractionParams(step=STEP))
    assert lc.meta["FLASHCUT"] == "NONE FOUND"
    assert any("no lamp flash found" in str(v) for k, v in lc.meta.items() if k.startswith("NOTE"))


def test_only_the_first_numflash_keyword_pairs_are_flashes(tmp_path: Path) -> None:
    # calcos rewrites NUMFLASH and the first NUMFLASH pairs with measured times; further pairs are stale.
    ds = _faint(tmp_path, "stale", lamp_rate=0.0, events_header={"NUMFLASH": 2})
    lc = extract_file(ds.event_files[0], ExtractionParams(step=STEP))
    assert lc.meta["NFLASH"] == 2
    assert lc.meta["FLASHEXP"] == pytest.approx(2 * (23.0 + 0.4) - 0.2, abs=1e-6)  # first starts at 0


def test_lamp_that_never_came_on(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, exptime=300.0, lamp_flashes=[], seed=2)
    assert fits.getheader(ds.event_files[0], 1)["NUMFLASH"] == 0
    lc = extract_file(ds.event_files[0], ExtractionParams(step=STEP))
    assert lc.meta["FLASHCUT"] == "NONE FOUND"


# ------------------------------------------------------------------------------- the science functions
def _grid(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    edges = np.arange(n + 1, dtype=float)
    return edges, exposure_per_bin(edges, [[0.0, float(n)]])


def test_find_lamp_flashes_steps_at_start_and_inside() -> None:
    rng = np.random.default_rng(5)
    edges, exposure = _grid()
    rate = np.full(2000, 30.0)
    rate[:12] += 200.0  # a flash at the very start (calcos flashes at the exposure start)
    rate[700:712] += 200.0
    search = find_lamp_flashes(edges, exposure, rng.poisson(rate).astype(float))
    assert search.intervals.tolist() == [[0.0, 13.0], [699.0, 713.0]]
    assert search.baseline == pytest.approx(30.0, rel=0.05)
    assert search.peak_excess > 150


def test_find_lamp_flashes_leaves_noise_ramps_and_source_flares_alone() -> None:
    rng = np.random.default_rng(6)
    edges, exposure = _grid()
    # Noise and a slow rise (orbital-day airglow leaking outside the box): nothing flagged.
    ramp = 30.0 + np.linspace(0.0, 60.0, 2000)
    assert len(find_lamp_flashes(edges, exposure, rng.poisson(ramp).astype(float)).intervals) == 0
    # A bright source flare whose profile wings leak outside the box: the source bands rose more.
    outside = np.full(2000, 30.0)
    source = np.full(2000, 1000.0)
    outside[900:960] += 40.0
    source[900:960] += 4000.0
    search = find_lamp_flashes(edges, exposure, rng.poisson(outside).astype(float),
                               source_counts=rng.poisson(source).astype(float))
    assert len(search.intervals) == 0 and search.rejected >= 1


def test_keyword_intervals_and_exclusion() -> None:
    got = keyword_flash_intervals([0.0, 10.0, np.nan, 30.0], [5.0, 8.0, 3.0, 40.0], pad=0.2)
    assert got.tolist() == [[-0.2, 5.2], [29.8, 40.2]]  # the reversed and the NaN pair are dropped
    gti = [[0.0, 100.0], [200.0, 300.0]]
    assert exclude_intervals(gti, [[-1.0, 10.0], [95.0, 205.0]]).tolist() == [[10.0, 95.0], [205.0, 300.0]]
    assert excluded_time(gti, [[95.0, 205.0]]) == pytest.approx(10.0)
    assert exclude_intervals(gti, np.zeros((0, 2))).tolist() == gti
