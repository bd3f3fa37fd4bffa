"""Readers against the project's generator: COS NUV, STIS tag modes, every corrupt-file kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hstlc.errors import InputFileError
from hstlc.readers import ProductKind, detect_product, read_dataset, read_event_times
from hstlc.synthetic import make_cos_nuv, make_stis_tag, write_corrupt_files


def test_cos_nuv_one_segment(tmp_path: Path) -> None:
    ds = make_cos_nuv(tmp_path, exptime=50.0, source_rate=5.0, seed=1)
    (path,) = ds.event_files
    assert detect_product(path) is ProductKind.COS_NUV_CORRTAG
    data = read_dataset(path)
    assert [s.name for s in data.segments] == ["NUV"] and data.observation.detector == "NUV"
    # n_events is per file: every stripe's truth repeats the total of the one NUV file
    assert {s["n_events"] for s in ds.truth["segments"].values()} == {len(data.segments[0].events)}


@pytest.mark.parametrize("mode", ["first", "echelle", "imaging"])
def test_stis_modes_calibrated(tmp_path: Path, mode: str) -> None:
    ds = make_stis_tag(tmp_path, echelle=mode == "echelle", imaging=mode == "imaging", exptime=50.0,
                       source_rate=20.0, reference_dir=tmp_path / "oref", seed=4)
    tag = ds.event_files[0]
    assert detect_product(tag) is ProductKind.STIS_TAG
    data = read_dataset(tag, oref_dir=tmp_path / "oref")
    ev = data.segments[0].events
    assert len(ev) > 0 and np.all(ev.epsilon > 0)
    assert {"pflat", "lflat", "bpixtab"} <= set(data.extras["calibration_applied"])
    if mode == "imaging":
        assert np.all(ev.wavelength == 0) and data.extras["orders"] == ()
    else:
        assert len(data.extras["orders"]) == (5 if mode == "echelle" else 1)
        # events inside an order window (truth box) have a wavelength
        for seg in ds.truth["segments"].values():
            box = np.abs(ev.y - seg["a2center_hires"]) < seg["extrsize"] / 2
            assert np.all(ev.wavelength[box] > 0)
    _, times = read_event_times(tag)
    np.testing.assert_allclose(times, ev.time)


def test_corrupt_files_messages(tmp_path: Path) -> None:
    files = write_corrupt_files(tmp_path)
    expected = {
        "not_fits": "lbad01nfq_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)",
        "truncated": "lbad02trq_corrtag_a.fits: truncated FITS file",
        "no_events": "lbad03neq_corrtag_a.fits: no EVENTS extension (is this a COS corrtag?)",
        "no_time": "lbad04ntq_corrtag_a.fits: EVENTS extension has no TIME column (is this a COS corrtag?)",
        "no_expstart": "lbad05nxq_corrtag_a.fits: missing keyword EXPSTART (EVENTS header)",
    }
    for kind, message in expected.items():
        with pytest.raises(InputFileError) as info:
            read_event_times(files[kind])
        assert str(info.value).startswith(message), (kind, str(info.value))
