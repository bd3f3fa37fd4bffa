"""Quality checks: each of the six good and bad (generator's BAD_CONDITIONS), FUV pairs, unreadable files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from hstlc.catalog.schema import BAD_DATA_REASONS
from hstlc.config import load_settings
from hstlc.domain import Observation
from hstlc.file_checks import check_dataset, check_paths
from hstlc.science.checks import REASONS, CheckResult, run_checks
from hstlc.synthetic import BAD_CONDITIONS, BAD_PROPOSID, make_cos_fuv


def _obs(**kw) -> Observation:
    base = dict(filename="x_corrtag_a.fits", rootname="x", instrume="COS", detector="FUV", exptime=100.0,
                proposid=1)
    base.update(kw)
    return Observation(**base)


def test_reason_strings_are_the_catalog_ones() -> None:
    assert REASONS == BAD_DATA_REASONS
    assert set(BAD_CONDITIONS) == set(BAD_DATA_REASONS)


def test_good_passes() -> None:
    result = run_checks(_obs(), np.array([0.0, 1.0, 1.0, 2.0]), bad_proposals=[5], min_exptime=1.0)
    assert result.ok and result.reasons == ()


@pytest.mark.parametrize(
    ("obs_kw", "times", "reason"),
    [
        ({"expflag": "INTERRUPTED"}, [0.0, 1.0], "Bad EXPFLAG"),
        ({}, [0.0, 2.0, 1.0], "Non-linear time"),
        ({}, [], "No events"),
        ({}, [3.0, 3.0, 3.0], "Singular event"),
        ({}, [7.0], "Singular event"),
        ({"proposid": 999}, [0.0, 1.0], "Bad Proposal"),
        ({"exptime": 0.5}, [0.0, 0.4], "Short Exposure"),
    ],
)
def test_each_check_fails_alone(obs_kw, times, reason) -> None:
    result = run_checks(_obs(**obs_kw), np.array(times, dtype=np.float32), bad_proposals=[999],
                        min_exptime=1.0)
    assert result.reasons == (reason,) and not result.ok


def test_all_reasons_kept_in_order() -> None:
    result = run_checks(_obs(expflag="UNKNOWN", proposid=999, exptime=0.0), np.array([]),
                        bad_proposals=[999], min_exptime=1.0)
    assert result.reasons == ("Bad EXPFLAG", "No events", "Bad Proposal", "Short Exposure")
    result = run_checks(_obs(expflag="UNKNOWN"), np.array([2.0, 1.0]), bad_proposals=[], min_exptime=1.0)
    assert result.reasons == ("Bad EXPFLAG", "Non-linear time")


def test_merged_is_canonical_and_unique() -> None:
    a = CheckResult(("Short Exposure",))
    b = CheckResult(("Bad EXPFLAG", "Short Exposure"))
    assert a.merged(b).reasons == ("Bad EXPFLAG", "Short Exposure")


@pytest.mark.slow
def test_ten_million_events_well_under_a_second() -> None:
    times = np.sort(np.random.default_rng(0).uniform(0, 1e4, 10_000_000).astype(np.float32))
    start = time.perf_counter()
    result = run_checks(_obs(), times, bad_proposals=[], min_exptime=1.0)
    elapsed = time.perf_counter() - start
    assert result.ok
    assert elapsed < 0.5, elapsed


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(overrides={"home_dir": tmp_path / "home", "bad_proposals": [BAD_PROPOSID]}).settings


@pytest.mark.parametrize("reason", BAD_DATA_REASONS)
def test_generated_bad_condition_detected(tmp_path: Path, settings, reason: str) -> None:
    kwargs = {"exptime": 60.0, "source_rate": 3.0, "seed": 2, **BAD_CONDITIONS[reason]}
    ds = make_cos_fuv(tmp_path, **kwargs)
    outcome = check_dataset(ds.event_files[0], settings)
    assert outcome.bad and reason in outcome.result.reasons
    assert outcome.files == ds.event_files


def test_generated_good_dataset_passes(tmp_path: Path, settings) -> None:
    ds = make_cos_fuv(tmp_path, exptime=60.0, source_rate=3.0, seed=2)
    outcome = check_dataset(ds.event_files[1], settings)
    assert outcome.ok and outcome.verdict == "good" and outcome.rootname == ds.rootname
    assert [p for p, _ in outcome.per_file] == list(ds.event_files)


def test_fuv_pair_with_one_bad_segment(tmp_path: Path, settings) -> None:
    good = make_cos_fuv(tmp_path / "g", segments=("FUVA",), exptime=60.0, source_rate=3.0, seed=1)
    bad = make_cos_fuv(tmp_path / "b", segments=("FUVB",), exptime=60.0, source_rate=3.0, seed=1,
                       **BAD_CONDITIONS["Non-linear time"])
    a = good.event_files[0]
    b = bad.event_files[0].rename(a.with_name(bad.event_files[0].name))
    outcome = check_dataset(a, settings)
    assert outcome.bad and outcome.result.reasons == ("Non-linear time",)
    per = dict(outcome.per_file)
    assert per[a].ok and per[b].reasons == ("Non-linear time",)


def test_check_paths_pairs_once_and_reports_unreadable(tmp_path: Path, settings) -> None:
    ds = make_cos_fuv(tmp_path, exptime=60.0, source_rate=3.0, seed=2)
    junk = tmp_path / "lb4m09zzq_corrtag_a.fits"
    junk.write_text("not fits")
    outcomes = check_paths([*ds.event_files, junk], settings)
    assert len(outcomes) == 2
    assert outcomes[0].ok
    assert outcomes[1].verdict == "unreadable"
    assert str(outcomes[1].error) == "lb4m09zzq_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)"
