"""What real x1d/corrtag files showed (FORMATS.md §9; issue 13 item 5): several SCI tables in a STIS x1d,
the calcos 3.3.4 x1d column set, SDQFLAGS 8346 (COS) / 31743 (STIS x1d SCI), the reference tables a
STIS x1d primary names (PHOTTAB, APERTAB, PCTAB, TDSTAB) and the STIS TDS correction hstlc cannot make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.extraction import ExtractionParams, extract_dataset, extract_file
from hstlc.readers import read_dataset
from hstlc.readers.x1d import X1DExtension, X1DSpectrum, choose_extension, read_x1d
from hstlc.synthetic.cos import make_cos_fuv
from hstlc.synthetic.stis import make_stis_tag

NEW_ERROR_COLUMNS = {"ERROR_LOWER", "VARIANCE_FLAT", "VARIANCE_COUNTS", "VARIANCE_BKG"}


def _notes(lc) -> list[str]:
    return [str(v) for k, v in lc.meta.items() if k.startswith("NOTE")]


# --------------------------------------------------------------------------------------- several SCI
def test_stis_x1d_with_several_sci_tables_all_read_first_used_and_said(tmp_path: Path) -> None:
    ds = make_stis_tag(tmp_path, x1d_readouts=3, readout_drift=0.4, source_rate=60.0, seed=3)
    with fits.open(ds.x1d) as hdul:
        scis = [h for h in hdul if h.name == "SCI"]
        assert [h.ver for h in scis] == [1, 2, 3]
        assert [h.data["A2CENTER"][0] for h in scis] == pytest.approx([512.0, 512.4, 512.8])
        assert sum(h.header["EXPTIME"] for h in scis) == pytest.approx(1000.0)
    spectrum = read_x1d(ds.x1d)
    assert [e.extver for e in spectrum.extensions] == [1, 2, 3]
    assert spectrum.rows is spectrum.extensions[0].rows
    dataset = read_dataset(ds.event_files[0])
    # The tag covers all three readouts equally: the first readout's geometry is used, and said.
    assert dataset.extras["x1d_extver"] == 1
    assert dataset.extras["orders"][0]["a2center"] == 512.0
    lc = extract_dataset(dataset, ExtractionParams(step=50.0))
    note = next(n for n in _notes(lc) if "SCI tables" in n)
    assert "3 SCI tables" in note and "EXTVER 1" in note and "0.8 px in A2CENTER" in note


def _ext(extver: int, start: float, exptime: float, a2c: float) -> X1DExtension:
    row = {"SPORDER": 1, "A2CENTER": a2c, "WAVELENGTH": np.linspace(1150.0, 1700.0, 1024)}
    return X1DExtension(extver, (row,), {"EXPSTART": start, "EXPTIME": exptime})


def test_choose_extension_by_overlap_first_on_ties() -> None:
    day = 86400.0
    exts = (_ext(1, 100.0, 500.0, 300.0), _ext(2, 100.0 + 500 / day, 500.0, 301.0))
    spectrum = X1DSpectrum(Path("o_x1d.fits"), "STIS", exts[0].rows, {}, exts[0].header, exts)
    # Events covering only the second readout's time use its geometry.
    choice = choose_extension(spectrum, expstart=100.0 + 600 / day, expend=100.0 + 900 / day)
    assert choice.extver == 2 and choice.spectrum.rows[0]["A2CENTER"] == 301.0
    assert "overlapping the events' exposure most" in choice.note
    # Events covering both equally, or no times at all: the first.
    both = choose_extension(spectrum, expstart=100.0, expend=100.0 + 1000 / day)
    assert both.extver == 1 and "first of 2" in both.note
    assert choose_extension(spectrum).extver == 1
    single = X1DSpectrum(Path("o_x1d.fits"), "STIS", exts[0].rows, {}, exts[0].header, exts[:1])
    assert choose_extension(single).note == ""


# --------------------------------------------------------------------------------------- COS x1d columns
def test_calcos_334_x1d_has_no_error_lower_or_variance_and_reads(tmp_path: Path) -> None:
    old = make_cos_fuv(tmp_path / "old", exptime=200.0, x1d=True, cal_ver="3.3.4", seed=4)
    new = make_cos_fuv(tmp_path / "new", exptime=200.0, x1d=True, seed=4)
    with fits.open(old.x1d) as hdul:
        names = {c.name for c in hdul["SCI"].columns}
        header = hdul["SCI"].header
        assert hdul[0].header["CAL_VER"] == "3.3.4"
    assert not names & NEW_ERROR_COLUMNS and {"FLUX", "ERROR", "NET", "GCOUNTS", "DQ_WGT"} <= names
    for key in ("LIVETM_A", "CHI_SQ_A", "NDF_A", "LIVETM_B", "NGOODPIX", "GOODMEAN", "GOODMAX"):
        assert key in header
    with fits.open(new.x1d) as hdul:
        assert {c.name for c in hdul["SCI"].columns} >= NEW_ERROR_COLUMNS
    spectrum = read_x1d(old.x1d)  # readers do not require the newer columns
    assert [r["SEGMENT"] for r in spectrum.rows] == ["FUVA", "FUVB"]
    assert not NEW_ERROR_COLUMNS & set(spectrum.rows[0])
    assert spectrum.rows[0]["WAVELENGTH"].shape == (16384,)


# --------------------------------------------------------------------------------------- SDQFLAGS
def test_generator_writes_the_typical_sdqflags_and_stis_x1d_keywords(tmp_path: Path) -> None:
    cos = make_cos_fuv(tmp_path / "cos", exptime=100.0, seed=5)
    assert fits.getheader(cos.event_files[0], "EVENTS")["SDQFLAGS"] == 8346
    stis = make_stis_tag(tmp_path / "stis", seed=5)
    with fits.open(stis.x1d) as hdul:
        sci, primary = hdul["SCI"].header, hdul[0].header
    assert sci["SDQFLAGS"] == 31743
    for key in ("EXPSTART", "EXPTIME", "EXPFLAG", "SHIFTA1", "SHIFTA2", "TEXPSTRT", "TEXPEND", "TEXPTIME"):
        assert key in sci
    assert {"PHOTTAB", "APERTAB", "PCTAB", "TDSTAB"} <= set(primary) and "FLUXTAB" not in primary


def _add_blemish_row(bpixtab: Path) -> None:
    """A BPIXTAB row flagging low-res row 512 (inside the G140L box) with 1024: in 32767, not in 31743."""
    with fits.open(bpixtab, mode="update") as hdul:
        table = hdul["BPIXTAB"]
        rows = table.data
        new = fits.BinTableHDU.from_columns(table.columns, nrows=len(rows) + 1, header=table.header)
        last = new.data[-1]
        last["PIX1"], last["PIX2"], last["LENGTH"], last["AXIS"], last["VALUE"] = 1, 512, 1024, 1, 1024
        last["OPT_ELEM"] = "G140L"
        hdul[1] = new


def test_stis_sdqflags_from_the_x1d_sci_header_when_the_tag_lacks_it(tmp_path: Path) -> None:
    lcs = {}
    for name, x1d_sdq in (("x1d", 31743), ("none", None)):
        oref = tmp_path / name / "oref"
        ds = make_stis_tag(tmp_path / name, sdqflags=None, x1d_sdqflags=x1d_sdq, reference_dir=oref,
                           source_rate=80.0, seed=6)
        _add_blemish_row(ds.reference_files["bpixtab"])
        dataset = read_dataset(ds.event_files[0], oref_dir=oref)
        assert "SDQFLAGS" not in fits.getheader(ds.event_files[0], "EVENTS")
        assert dataset.extras["x1d_sdqflags"] == x1d_sdq
        blemished = int(np.count_nonzero(dataset.segments[0].events.dq & 1024))
        assert blemished > 1000
        lcs[name] = extract_dataset(dataset, ExtractionParams(step=100.0))
    assert any("x1d SCI header's 31743 used" in n for n in _notes(lcs["x1d"]))
    assert any("default 32767 used" in n for n in _notes(lcs["none"]))
    # The 1024-flagged (small blemish) events count with the x1d's 31743, not with calstis' 32767: the
    # flagged low-res row is the profile's peak, ~21 % of the box (measured: +27 % gross).
    gained = lcs["x1d"].gross.sum() / lcs["none"].gross.sum() - 1
    assert 0.15 < gained < 0.40


# --------------------------------------------------------------------------------------- STIS references
def test_stis_references_from_the_x1d_primary_when_the_tag_lacks_them(tmp_path: Path) -> None:
    oref = tmp_path / "oref"
    ds = make_stis_tag(tmp_path, reference_dir=oref, source_rate=80.0, seed=7)
    for key in ("PHOTTAB", "APERTAB", "PCTAB", "TDSTAB"):
        fits.delval(ds.event_files[0], key, ext=0)
    dataset = read_dataset(ds.event_files[0], oref_dir=oref)
    assert dataset.extras["phottab"] == str(ds.reference_files["phottab"])
    lc = extract_dataset(dataset, ExtractionParams(step=100.0))
    assert lc.meta["FLUXCAL"] == "CALIBRATED" and lc.meta["PHOTTAB"] == ds.reference_files["phottab"].name


def test_stis_flux_states_the_missing_tds_correction(tmp_path: Path) -> None:
    oref = tmp_path / "oref"
    ds = make_stis_tag(tmp_path, reference_dir=oref, source_rate=80.0, seed=8)
    params = ExtractionParams(step=100.0)
    missing = extract_file(ds.event_files[0], params, oref_dir=oref)
    assert missing.meta["FLUXCAL"] == "CALIBRATED" and missing.meta["TDSCORR"] == "OMITTED"
    assert "no TDS (time-dependent sensitivity) correction" in missing.meta["FLUXNOTE"]
    assert "TDSTAB oref$hstlcsyn_tds.fits not found" in missing.meta["FLUXNOTE"]
    # A TDSTAB in oref_dir is found, named, and still not applied (its format is not documented).
    (oref / "hstlcsyn_tds.fits").write_bytes(b"")
    found = extract_file(ds.event_files[0], params, oref_dir=oref)
    assert "TDSTAB hstlcsyn_tds.fits found but not applied" in found.meta["FLUXNOTE"]
    assert found.meta["TDSCORR"] == "OMITTED"
    np.testing.assert_array_equal(found.flux, missing.flux)
