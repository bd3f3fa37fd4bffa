"""The synthetic data generator writes exactly the formats of FORMATS.md and records what it injected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstlc.synthetic import (
    BAD_CONDITIONS,
    BAD_PROPOSID,
    TICK,
    ExtractionGeometry,
    cos_sensitivity,
    cos_tds_factor,
    flare,
    make_cos_fuv,
    make_cos_nuv,
    make_cos_reference_files,
    make_stis_reference_files,
    make_stis_tag,
    sinusoid,
    write_corrupt_files,
)
from hstlc.synthetic.events import SERIOUS_DQ


def _formats(hdu: fits.BinTableHDU) -> dict[str, str]:
    return {c.name: str(c.format) for c in hdu.columns}


def _units(hdu: fits.BinTableHDU) -> dict[str, str | None]:
    return {c.name: c.unit for c in hdu.columns}


# ----------------------------------------------------------------------------------------- COS FUV
def test_cos_fuv_pair_columns_and_extensions(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, exptime=200.0, source_rate=50.0)
    assert [p.name for p in ds.event_files] == ["lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits"]
    assert ds.x1d is None
    for path, seg in zip(ds.event_files, ("FUVA", "FUVB"), strict=True):
        with fits.open(path) as hdul:
            assert [(h.name, h.ver) for h in hdul[1:]] == [("EVENTS", 1), ("GTI", 1), ("TIMELINE", 1)]
            ev = hdul["EVENTS"]
            assert _formats(ev) == {
                "TIME": "1E",
                "RAWX": "1I",
                "RAWY": "1I",
                "XCORR": "1E",
                "YCORR": "1E",
                "XDOPP": "1E",
                "XFULL": "1E",
                "YFULL": "1E",
                "WAVELENGTH": "1E",
                "EPSILON": "1E",
                "DQ": "1I",
                "PHA": "1B",
            }
            assert ev.data["TIME"].dtype == np.dtype(">f4")
            units = _units(ev)
            assert units["TIME"] == "s" and units["XCORR"] == "pixel" and units["WAVELENGTH"] == "angstrom"
            assert ev.columns["WAVELENGTH"].disp == "F9.4"
            p0, h1 = hdul[0].header, ev.header
            for key in (
                "TARGNAME",
                "OPT_ELEM",
                "CENWAVE",
                "APERTURE",
                "FPPOS",
                "PROPOSID",
                "ROOTNAME",
                "RA_TARG",
                "DEC_TARG",
                "DETECTOR",
                "SEGMENT",
                "FLUXTAB",
                "TDSTAB",
                "CAL_VER",
            ):
                assert key in p0 and key not in h1, key
            for key in ("EXPSTART", "EXPEND", "EXPTIME", "EXPFLAG", "SDQFLAGS", "DATE-OBS", "TIME-OBS"):
                assert key in h1 and key not in p0, key
            letter = seg[-1]
            other = "B" if letter == "A" else "A"
            assert p0["SEGMENT"] == seg and p0["INSTRUME"] == "COS" and p0["DETECTOR"] == "FUV"
            assert h1[f"SP_LOC_{letter}"] > 0 and h1[f"SP_HGT_{letter}"] == 35
            assert h1[f"SP_LOC_{other}"] == -999 and h1[f"B_BKG1_{other}"] == -999
            assert h1[f"EXPTIME{letter}"] == h1["EXPTIME"] == 200.0
            assert p0["FLUXTAB"] == "N/A"
            t = ev.data["TIME"]
            assert len(t) > 0 and np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < 200.0
            tl = hdul["TIMELINE"]
            assert set(_formats(tl).values()) == {"1E"}
            assert {c.name for c in tl.columns} == {
                "TIME",
                "LONGITUDE",
                "LATITUDE",
                "SUN_ALT",
                "SUN_ZD",
                "TARGET_ALT",
                "RADIAL_VEL",
                "SHIFT1",
                "LY_ALPHA",
                "OI_1304",
                "OI_1356",
                "DARKRATE",
            }
            assert np.allclose(np.diff(tl.data["TIME"]), 1.0)
            assert np.ptp(tl.data["SUN_ALT"]) > 10


def test_cos_fuv_wavelengths_follow_grating(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, exptime=100.0, source_rate=100.0, background_rate=0.1)
    with fits.open(ds.event_files[0]) as a, fits.open(ds.event_files[1]) as b:
        wa, wb = a[1].data["WAVELENGTH"], b[1].data["WAVELENGTH"]
        assert 1285 < wa[wa > 0].min() < 1300 and 1420 < wa.max() < 1440
        assert 1120 < wb[wb > 0].min() < 1140 and 1260 < wb.max() < 1280
        # background events outside the active area keep WAVELENGTH 0
        xa = a[1].data["XFULL"]
        assert np.all(wa[(xa < 1100) | (xa > 15300)] == 0)
        assert np.any(wa == 0)
        eps = a[1].data["EPSILON"]
        assert 0.97 < eps.mean() < 1.03 and eps.std() > 0


def test_gti_gaps_write_second_gti_and_exptime_is_sum(tmp_path: Path) -> None:
    gti = [(0.0, 300.0), (400.0, 700.0), (800.0, 1000.0)]
    ds = make_cos_fuv(tmp_path, exptime=1000.0, gti=gti, source_rate=30.0, segments=("FUVA",))
    assert [p.name for p in ds.event_files] == ["lb4m01aaq_corrtag_a.fits"]
    with fits.open(ds.event_files[0]) as hdul:
        gtis = [(h.name, h.ver) for h in hdul if h.name == "GTI"]
        assert gtis == [("GTI", 1), ("GTI", 2)]
        names = [h.name for h in hdul]
        assert names.index("TIMELINE") > max(i for i, n in enumerate(names) if n == "GTI")
        g2 = hdul["GTI", 2].data
        assert hdul["GTI", 2].columns["START"].format == "1D" and hdul["GTI", 2].columns["STOP"].unit == "s"
        assert hdul["EVENTS"].header["EXPTIME"] == pytest.approx(800.0)
        assert float(np.sum(g2["STOP"] - g2["START"])) == pytest.approx(800.0)
        t = hdul["EVENTS"].data["TIME"].astype(np.float64)
        inside = np.zeros(len(t), dtype=bool)
        for start, stop in gti:
            inside |= (t >= start) & (t < stop)
        assert inside.all()
        assert np.sum((t > 300) & (t < 400)) == 0
    assert ds.truth["exptime"] == pytest.approx(800.0)


def test_source_counts_match_truth_and_signal(tmp_path: Path) -> None:
    sig = sinusoid(100.0, 0.5)
    ds = make_cos_fuv(
        tmp_path,
        exptime=1000.0,
        source_rate=200.0,
        background_rate=0.0,
        signal=sig,
        segments=("FUVA",),
        seed=3,
    )
    truth = ds.truth["segments"]["FUVA"]
    assert truth["expected_source"] == pytest.approx(200.0 * 1000.0, rel=1e-3)
    assert abs(truth["n_source"] - truth["expected_source"]) < 5 * np.sqrt(truth["expected_source"])
    with fits.open(ds.event_files[0]) as hdul:
        ev = hdul[1].data
        t, y = ev["TIME"].astype(np.float64), ev["YCORR"]
        geo = truth["geometry"]
        in_box = np.abs(y - geo["sp_loc"]) < geo["sp_hgt"] / 2
        assert in_box.sum() == truth["n_source"] == len(t)
    # the modulation is in the arrival times: fold on the period
    phase = np.mod(t, 100.0) / 100.0
    peak = np.sum((phase > 0.15) & (phase < 0.35))  # around sin maximum (phase 0.25)
    trough = np.sum((phase > 0.65) & (phase < 0.85))
    assert peak / trough == pytest.approx(1.5 / 0.5, rel=0.15)


def test_flare_truth_integral(tmp_path: Path) -> None:
    sig = flare(peak=300.0, amplitude=4.0, decay=50.0)
    ds = make_cos_fuv(
        tmp_path,
        exptime=1000.0,
        source_rate=50.0,
        background_rate=0.0,
        signal=sig,
        segments=("FUVB",),
        seed=1,
    )
    truth = ds.truth["segments"]["FUVB"]
    grid = np.linspace(0.0, 1000.0, 2_000_001)
    numeric = np.trapezoid(sig.evaluate(grid), grid) * 50.0
    assert truth["expected_source"] == pytest.approx(numeric, rel=1e-6)
    assert abs(truth["n_source"] - truth["expected_source"]) < 5 * np.sqrt(truth["expected_source"])


def test_dq_flags_and_sdqflags(tmp_path: Path) -> None:
    ds = make_cos_fuv(
        tmp_path,
        exptime=300.0,
        source_rate=100.0,
        dq_fraction=0.2,
        benign_dq_fraction=0.1,
        segments=("FUVA",),
    )
    with fits.open(ds.event_files[0]) as hdul:
        sdq = hdul["EVENTS"].header["SDQFLAGS"]
        dq = hdul["EVENTS"].data["DQ"].astype(np.int64)
        pha = hdul["EVENTS"].data["PHA"]
    bad = (dq & (sdq | SERIOUS_DQ)) != 0
    assert 0.17 < bad.mean() < 0.23
    for bit in (64, 512, 2048):
        assert np.any(dq & bit), bit
        assert not (sdq & bit), "serious bits are flagged events outside the default SDQFLAGS"
    assert np.any((dq != 0) & ~bad)  # benign flags exist and are not rejected
    assert np.all(np.isin(pha[(dq & 512) != 0], (0, 31)))
    t = ds.truth["segments"]["FUVA"]
    assert t["n_source"] - t["n_source_clean"] > 0


def test_airglow_lines(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path, exptime=500.0, source_rate=10.0, background_rate=0.0, airglow=True, seed=5)
    with fits.open(ds.event_files[1]) as b, fits.open(ds.event_files[0]) as a:
        wb, yb = b[1].data["WAVELENGTH"], b[1].data["YCORR"]
        wa = a[1].data["WAVELENGTH"]
    lya = np.abs(wb - 1215.67) < 2
    assert lya.sum() > 0.8 * 20 * 500
    geo = ds.truth["segments"]["FUVB"]["geometry"]
    # spread over the slit height, flat: not concentrated on the trace like the source
    assert np.ptp(yb[lya]) > 0.8 * geo["sp_hgt"] - 2
    assert np.std(yb[lya]) > 1.4 * geo["sp_hgt"] / 6
    assert np.sum(np.abs(wa - 1302.17) < 1) > 0.5 * 500
    assert ds.truth["segments"]["FUVA"]["n_airglow"] > 0


def test_geometry_override_and_not_extracted(tmp_path: Path) -> None:
    geo = ExtractionGeometry(
        sp_loc=600.0, sp_hgt=20.0, b_bkg1=500.0, b_hgt1=30.0, b_bkg2=700.0, b_hgt2=10.0, sp_slp=0.001
    )
    ds = make_cos_fuv(tmp_path, exptime=100.0, geometry={"FUVA": geo, "FUVB": None})
    with fits.open(ds.event_files[0]) as a, fits.open(ds.event_files[1]) as b:
        ha, hb = a[1].header, b[1].header
        assert (ha["SP_LOC_A"], ha["SP_HGT_A"], ha["SP_SLP_A"]) == (600.0, 20.0, 0.001)
        assert (ha["B_BKG1_A"], ha["B_HGT1_A"], ha["B_BKG2_A"], ha["B_HGT2_A"]) == (500.0, 30.0, 700.0, 10.0)
        assert hb["SP_LOC_B"] == -999 and hb["SP_HGT_B"] == -999 and hb["B_HGT2_B"] == -999
        x, y = a[1].data["XFULL"], a[1].data["YFULL"]
        src = np.abs(y - (600.0 + 0.001 * (x - 8192))) < 10
        assert src.sum() >= ds.truth["segments"]["FUVA"]["n_source"]


def test_header_overrides_and_hostile_strings(tmp_path: Path) -> None:
    ds = make_cos_fuv(
        tmp_path,
        "lzzz99zzq",
        targname="../../etc",
        proposid=4242,
        opt_elem="G160M",
        cenwave=1600,
        aperture="BOA",
        fppos=1,
        exptime=50.0,
        primary_header={"TARDESCR": "x'; DROP TABLE metadata;--"},
        events_header={"DATE-OBS": None},
    )
    with fits.open(ds.event_files[0]) as hdul:
        p0 = hdul[0].header
        assert p0["TARGNAME"] == "../../etc" and p0["PROPOSID"] == 4242 and p0["ROOTNAME"] == "lzzz99zzq"
        assert (p0["OPT_ELEM"], p0["CENWAVE"], p0["APERTURE"], p0["FPPOS"]) == ("G160M", 1600, "BOA", 1)
        assert p0["TARDESCR"] == "x'; DROP TABLE metadata;--"
        assert "DATE-OBS" not in hdul[1].header
        w = hdul[1].data["WAVELENGTH"]
        assert 1590 < w[w > 0].min() < 1610
    assert all(p.parent == tmp_path for p in ds.files)
    with pytest.raises(ValueError):
        make_cos_fuv(tmp_path, "../escape")


def test_seed_reproducible(tmp_path: Path) -> None:
    a = make_cos_fuv(tmp_path / "a", exptime=100.0, seed=7, dq_fraction=0.1, airglow=True)
    b = make_cos_fuv(tmp_path / "b", exptime=100.0, seed=7, dq_fraction=0.1, airglow=True)
    c = make_cos_fuv(tmp_path / "c", exptime=100.0, seed=8)
    for fa, fb, fc in zip(a.event_files, b.event_files, c.event_files, strict=True):
        with fits.open(fa) as ha, fits.open(fb) as hb, fits.open(fc) as hc:
            assert np.array_equal(ha[1].data, hb[1].data)
            assert len(ha[1].data) != len(hc[1].data) or not np.array_equal(ha[1].data, hc[1].data)


# ------------------------------------------------------------------------------------ bad conditions
def _events(path: Path) -> tuple[fits.Header, fits.Header, np.ndarray]:
    with fits.open(path) as hdul:
        return hdul[0].header.copy(), hdul["EVENTS"].header.copy(), np.array(hdul["EVENTS"].data["TIME"])


@pytest.mark.parametrize("reason", sorted(BAD_CONDITIONS))
def test_bad_conditions_cos_fuv(tmp_path: Path, reason: str) -> None:
    kwargs = {"exptime": 100.0, "source_rate": 20.0} | dict(BAD_CONDITIONS[reason])
    ds = make_cos_fuv(tmp_path, **kwargs)
    p0, h1, t = _events(ds.event_files[0])
    present = {
        "Bad EXPFLAG": h1["EXPFLAG"] != "NORMAL",
        "Non-linear time": bool(np.any(np.diff(t) < 0)),
        "No events": len(t) == 0,
        "Singular event": len(t) > 1 and np.all(t == t[0]),
        "Bad Proposal": p0["PROPOSID"] == BAD_PROPOSID,
        "Short Exposure": h1["EXPTIME"] < 1.0,
    }
    assert present[reason]
    assert sum(present.values()) == 1, present


# ------------------------------------------------------------------------------------ COS reference
def test_cos_reference_tables(tmp_path: Path) -> None:
    refs = make_cos_reference_files(tmp_path, opt_elem="G130M", cenwave=1291)
    assert refs["fluxtab"].name.endswith("_phot.fits") and refs["tdstab"].name.endswith("_tds.fits")
    with fits.open(refs["tdstab"]) as hdul:
        tab = hdul[1]
        assert _formats(tab) == {
            "OPT_ELEM": "5A",
            "CENWAVE": "1J",
            "APERTURE": "3A",
            "SEGMENT": "4A",
            "NWL": "1J",
            "NT": "1J",
            "WAVELENGTH": "60D",
            "TIME": "20D",
            "SLOPE": "1200D",
            "INTERCEPT": "1200D",
        }
        assert tab.columns["SLOPE"].dim == "(60,20)" and tab.columns["INTERCEPT"].dim == "(60,20)"
        assert "REF_TIME" in tab.header and "REF_TIME" not in hdul[0].header
        d = tab.data
        assert d["SLOPE"].shape[1:] == (20, 60)
        row = np.flatnonzero(
            (d["OPT_ELEM"] == "G130M")
            & (d["SEGMENT"] == "FUVA")
            & (d["CENWAVE"] == 1291)
            & (d["APERTURE"] == "PSA")
        )
        assert len(row) == 1
        r = d[row[0]]
        nwl, nt = r["NWL"], r["NT"]
        assert np.all(r["WAVELENGTH"][nwl:] == 1.0) and np.all(r["TIME"][nt:] == 0.0)
        assert np.all(np.diff(r["WAVELENGTH"][:nwl]) > 0) and np.all(np.diff(r["TIME"][:nt]) > 0)
        assert {"FUVA", "FUVB", "NUVA", "NUVB", "NUVC"} <= set(d["SEGMENT"])
        # the documented formula reproduces cos_tds_factor
        mjd = 56000.0
        i = int(np.clip(np.searchsorted(r["TIME"][:nt], mjd, side="right") - 1, 0, nt - 1))
        f = (mjd - tab.header["REF_TIME"]) / 365.25 * r["SLOPE"][i, :nwl] / 100 + r["INTERCEPT"][i, :nwl]
        w = r["WAVELENGTH"][:nwl]
        assert np.allclose(cos_tds_factor("G130M", "FUVA", w, mjd), f)
        assert f.min() > 0.5 and f.max() <= 1.0
    with fits.open(refs["fluxtab"]) as hdul:
        d = hdul[1].data
        assert {"SEGMENT", "OPT_ELEM", "CENWAVE", "APERTURE", "WAVELENGTH", "SENSITIVITY"} <= set(d.names)
        row = np.flatnonzero(
            (d["OPT_ELEM"] == "G130M")
            & (d["SEGMENT"] == "FUVB")
            & (d["CENWAVE"] == 1291)
            & (d["APERTURE"] == "PSA")
        )[0]
        assert np.allclose(
            cos_sensitivity("G130M", 1291, "FUVB", d["WAVELENGTH"][row]), d["SENSITIVITY"][row], rtol=1e-6
        )
    any_refs = make_cos_reference_files(tmp_path / "any", any_aperture=True)
    with fits.open(any_refs["fluxtab"]) as hdul:
        assert set(hdul[1].data["APERTURE"]) == {"ANY"}


def test_cos_fuv_with_reference_dir_names_tables_and_records_flux(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path / "data", exptime=100.0, reference_dir=tmp_path / "ref")
    with fits.open(ds.event_files[0]) as hdul:
        assert hdul[0].header["FLUXTAB"] == "lref$hstlcsyn_phot.fits"
        assert hdul[0].header["TDSTAB"] == "lref$hstlcsyn_tds.fits"
    assert (tmp_path / "ref" / "hstlcsyn_phot.fits").exists()
    assert set(ds.reference_files) == {"fluxtab", "tdstab"}
    flux = ds.truth["segments"]["FUVA"]["flux"]
    assert flux is not None and 1e-18 < flux < 1e-12


# ---------------------------------------------------------------------------------------- COS NUV, x1d
def test_cos_nuv_three_stripes_in_one_file(tmp_path: Path) -> None:
    ds = make_cos_nuv(tmp_path, exptime=200.0, source_rate={"NUVA": 20.0, "NUVB": 40.0, "NUVC": 10.0})
    assert [p.name for p in ds.event_files] == ["lb4m02abq_corrtag.fits"]
    with fits.open(ds.event_files[0]) as hdul:
        p0, ev = hdul[0].header, hdul["EVENTS"]
        assert p0["DETECTOR"] == "NUV" and p0["SEGMENT"] == "N/A" and p0["OPT_ELEM"] == "G185M"
        assert _formats(ev)["TIME"] == "1E" and len(ev.columns) == 12
        assert np.all(ev.data["PHA"] == 0)
        h1 = ev.header
        assert "EXPTIMEA" not in h1
        y, w = ev.data["YCORR"], ev.data["WAVELENGTH"]
        for stripe, lo, hi in (("A", 1665, 1710), ("B", 1764, 1809), ("C", 1863, 1908)):
            assert h1[f"SP_HGT_{stripe}"] == 57
            loc = h1[f"SP_LOC_{stripe}"]
            sel = (np.abs(y - loc) < 28) & (w > 0)
            assert lo < w[sel].min() and w[sel].max() < hi, stripe
        # outside every stripe region no wavelength is assigned
        far = (y > 520) & (y < 1000)
        assert far.any() and np.all(w[far] == 0)
    truth = ds.truth["segments"]
    assert set(truth) == {"NUVA", "NUVB", "NUVC"}
    assert truth["NUVB"]["n_source"] > 1.5 * truth["NUVA"]["n_source"]


def test_cos_nuv_stripe_subset_and_imaging(tmp_path: Path) -> None:
    ds = make_cos_nuv(tmp_path / "s", exptime=50.0, stripes=("NUVA", "NUVB"), opt_elem="G230L", cenwave=2950)
    with fits.open(ds.event_files[0]) as hdul:
        assert hdul[1].header["SP_LOC_C"] == -999 and hdul[1].header["SP_LOC_B"] > 0
    im = make_cos_nuv(tmp_path / "i", exptime=50.0, opt_elem="MIRRORA")
    assert im.x1d is None
    with fits.open(im.event_files[0]) as hdul:
        assert hdul[0].header["OBSTYPE"] == "IMAGING" and hdul[0].header["CENWAVE"] == 0
        assert np.all(hdul[1].data["WAVELENGTH"] == 0)
        x, y = hdul[1].data["XCORR"], hdul[1].data["YCORR"]
        assert abs(np.median(x) - 510) < 5 and abs(np.median(y) - 512) < 5


def test_cos_x1d_rows_and_columns(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path / "d", exptime=200.0, x1d=True, reference_dir=tmp_path / "ref")
    assert ds.x1d is not None and ds.x1d.name == "lb4m01aaq_x1d.fits" and ds.x1d in ds.files
    with fits.open(ds.x1d) as hdul:
        assert hdul[0].header["SEGMENT"] == "BOTH"
        sci = hdul["SCI"]
        fm = _formats(sci)
        assert fm["SEGMENT"] == "4A" and fm["EXPTIME"] == "1D" and fm["NELEM"] == "1J"
        assert fm["WAVELENGTH"] == "16384D" and fm["FLUX"] == "16384E" and fm["DQ"] == "16384I"
        assert _units(sci)["NET"] == "count /s"
        assert list(sci.data["SEGMENT"]) == ["FUVA", "FUVB"]
        assert "SP_LOC_A" in sci.header and "SP_LOC_B" in sci.header and sci.header["SP_LOC_B"] == 530
        net = sci.data["NET"][0].astype(np.float64)
        expected = ds.truth["segments"]["FUVA"]["n_source"] / 200.0
        assert net.sum() == pytest.approx(expected, rel=0.03)
        flux = sci.data["FLUX"][0][2000:14000]
        assert np.median(flux) == pytest.approx(ds.truth["segments"]["FUVA"]["flux"], rel=0.1)
    nuv = make_cos_nuv(tmp_path / "n", exptime=50.0, x1d=True)
    with fits.open(nuv.x1d) as hdul:
        assert list(hdul["SCI"].data["SEGMENT"]) == ["NUVA", "NUVB", "NUVC"]
        assert _formats(hdul["SCI"])["WAVELENGTH"] == "1274D"


# ------------------------------------------------------------------------------------------- STIS
def test_stis_first_order_tag_and_x1d(tmp_path: Path) -> None:
    ds = make_stis_tag(tmp_path, exptime=300.0, source_rate=40.0, background_rate=0.01)
    assert [p.name for p in ds.event_files] == ["o8k401010_tag.fits"]
    assert ds.x1d is not None and ds.x1d.name == "o8k401010_x1d.fits"
    with fits.open(ds.event_files[0]) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "EVENTS", "GTI"]
        ev = hdul["EVENTS"]
        assert _formats(ev) == {"TIME": "1J", "AXIS1": "1I", "AXIS2": "1I", "DETAXIS1": "1I"}
        assert ev.header["TSCAL1"] == TICK and ev.header["TUNIT1"] == "s"
        t = ev.data["TIME"]
        assert t.dtype.kind == "f" and t.max() < 300.0 and np.all(np.diff(t) >= 0)
        raw = ev.data.field("TIME")  # astropy scales; ticks are integers
        assert np.allclose(raw / TICK, np.rint(raw / TICK), atol=1e-6)
        for ax in ("AXIS1", "AXIS2", "DETAXIS1"):
            assert ev.data[ax].min() >= 1 and ev.data[ax].max() <= 2048
        p0, h1 = hdul[0].header, ev.header
        assert p0["INSTRUME"] == "STIS" and p0["DETECTOR"] == "FUV-MAMA" and p0["OPT_ELEM"] == "G140L"
        assert p0["PFLTFILE"] == "N/A"
        for key in ("EXPSTART", "EXPTIME", "EXPFLAG", "SDQFLAGS"):
            assert key in h1
        a2 = ev.data["AXIS2"]
    with fits.open(ds.x1d) as hdul:
        sci = hdul["SCI"]
        fm = _formats(sci)
        assert fm["SPORDER"] == "1I" and fm["WAVELENGTH"] == "1024D" and fm["A2CENTER"] == "1E"
        row = sci.data[0]
        assert row["SPORDER"] == 1 and row["NELEM"] == 1024
        centre = 2 * row["A2CENTER"] - 0.5
        truth = ds.truth["segments"]["order 1"]
        assert truth["a2center_hires"] == centre
        in_box = np.abs(a2 - centre) < row["EXTRSIZE"]
        assert in_box.sum() == truth["n_source"] + truth["n_background_in_box"]
        assert row["NET"].sum() * 300.0 == pytest.approx(truth["n_source"], rel=0.05)


def test_stis_echelle_orders(tmp_path: Path) -> None:
    ds = make_stis_tag(tmp_path, echelle=True, n_orders=4, exptime=100.0, source_rate=30.0)
    with fits.open(ds.x1d) as hdul:
        d = hdul["SCI"].data
        assert len(d) == 4 and len(set(d["SPORDER"])) == 4
        assert hdul[0].header["OPT_ELEM"] == "E140M"
        centres = d["A2CENTER"]
        assert len(set(np.round(centres))) == 4
        # each order: shorter wavelengths in higher orders
        mid = d["WAVELENGTH"][:, 512]
        assert np.all(np.diff(mid[np.argsort(d["SPORDER"])]) < 0)
    with fits.open(ds.event_files[0]) as hdul:
        a2 = hdul[1].data["AXIS2"]
    for c in centres:
        assert np.sum(np.abs(a2 - (2 * c - 0.5)) < 7) > 0.9 * 30 * 100


def test_stis_imaging_has_no_x1d(tmp_path: Path) -> None:
    ds = make_stis_tag(tmp_path, imaging=True, exptime=50.0)
    assert ds.x1d is None and len(ds.files) == 1
    with fits.open(ds.event_files[0]) as hdul:
        assert hdul[0].header["OBSTYPE"] == "IMAGING" and hdul[0].header["CENWAVE"] == 0


def test_stis_gti_and_signal(tmp_path: Path) -> None:
    gti = [(0.0, 100.0), (150.0, 400.0)]
    ds = make_stis_tag(tmp_path, gti=gti, exptime=400.0, signal=sinusoid(50.0, 0.8), source_rate=80.0)
    with fits.open(ds.event_files[0]) as hdul:
        assert hdul[1].header["EXPTIME"] == pytest.approx(350.0)
        g = hdul["GTI"].data
        assert np.allclose(g["START"], [0, 150]) and np.allclose(g["STOP"], [100, 400])
        t = hdul[1].data["TIME"]
    assert not np.any((t >= 100) & (t < 150))
    truth = ds.truth["segments"]["order 1"]
    assert abs(truth["n_source"] - truth["expected_source"]) < 5 * np.sqrt(truth["expected_source"])


@pytest.mark.parametrize("reason", sorted(BAD_CONDITIONS))
def test_bad_conditions_stis(tmp_path: Path, reason: str) -> None:
    kwargs = {"exptime": 100.0, "source_rate": 20.0, "x1d": False} | dict(BAD_CONDITIONS[reason])
    ds = make_stis_tag(tmp_path, **kwargs)
    p0, h1, t = _events(ds.event_files[0])
    present = {
        "Bad EXPFLAG": h1["EXPFLAG"] != "NORMAL",
        "Non-linear time": bool(np.any(np.diff(t) < 0)),
        "No events": len(t) == 0,
        "Singular event": len(t) > 1 and np.all(t == t[0]),
        "Bad Proposal": p0["PROPOSID"] == BAD_PROPOSID,
        "Short Exposure": h1["EXPTIME"] < 1.0,
    }
    assert present[reason] and sum(present.values()) == 1, present


def test_stis_reference_files(tmp_path: Path) -> None:
    refs = make_stis_reference_files(tmp_path, pflat_shape=(2048, 2048), lflat_shape=(300, 300))
    assert set(refs) == {"pfltfile", "lfltfile", "bpixtab", "phottab"}
    assert refs["pfltfile"].name.endswith("_pfl.fits") and refs["lfltfile"].name.endswith("_lfl.fits")
    for key, shape in (("pfltfile", (2048, 2048)), ("lfltfile", (300, 300))):
        with fits.open(refs[key]) as hdul:
            assert [(h.name, h.ver) for h in hdul[1:]] == [("SCI", 1), ("ERR", 1), ("DQ", 1)]
            assert hdul["SCI"].data.shape == shape
            assert 0.8 < hdul["SCI"].data.mean() < 1.2
    with fits.open(refs["bpixtab"]) as hdul:
        d = hdul[1].data
        assert {"PIX1", "PIX2", "LENGTH", "AXIS", "VALUE", "OPT_ELEM"} <= set(d.names)
        assert hdul[1].header["SIZAXIS1"] == 1024
        assert len(set(d["OPT_ELEM"])) > 2 and set(d["AXIS"]) == {1, 2}
        g140l = d[d["OPT_ELEM"] == "G140L"]
        e140m = d[d["OPT_ELEM"] == "E140M"]
        assert set(g140l["PIX1"][g140l["AXIS"] == 2]) != set(e140m["PIX1"][e140m["AXIS"] == 2])
    with fits.open(refs["phottab"]) as hdul:
        d = hdul[1].data
        assert {"OPT_ELEM", "CENWAVE", "SPORDER", "NELEM", "WAVELENGTH", "THROUGHPUT", "ERROR"} <= set(
            d.names
        )
        assert np.any(d["SPORDER"] > 1) and np.any(d["SPORDER"] == 1)
    tag = make_stis_tag(tmp_path / "d", exptime=20.0, reference_dir=tmp_path / "r")
    with fits.open(tag.event_files[0]) as hdul:
        assert hdul[0].header["PFLTFILE"] == "oref$hstlcsyn_pfl.fits"
        assert hdul[0].header["PHOTTAB"] == "oref$hstlcsyn_pht.fits"


# ---------------------------------------------------------------------------------------- corrupt
def test_corrupt_files(tmp_path: Path) -> None:
    files = write_corrupt_files(tmp_path)
    assert set(files) == {"not_fits", "truncated", "no_events", "no_time", "no_expstart"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files.values())
    with pytest.raises(OSError):
        fits.open(files["not_fits"])
    assert files["truncated"].stat().st_size % 2880 != 0
    with fits.open(files["no_events"]) as hdul:
        assert "EVENTS" not in [h.name for h in hdul]
    with fits.open(files["no_time"]) as hdul:
        assert "TIME" not in hdul["EVENTS"].columns.names and "XCORR" in hdul["EVENTS"].columns.names
    with fits.open(files["no_expstart"]) as hdul:
        assert "EXPSTART" not in hdul[0].header and "EXPSTART" not in hdul["EVENTS"].header
        assert len(hdul["EVENTS"].data) > 0


def test_reference_files_are_reused_when_unchanged(tmp_path: Path) -> None:
    first = make_cos_reference_files(tmp_path)
    stamps = {k: p.stat().st_mtime_ns for k, p in first.items()}
    again = make_cos_reference_files(tmp_path)
    assert again == first and {k: p.stat().st_mtime_ns for k, p in again.items()} == stamps
    make_cos_reference_files(tmp_path, ref_time=55000.0)  # different content: rewritten
    with fits.open(first["tdstab"]) as hdul:
        assert hdul[1].header["REF_TIME"] == 55000.0
    assert not list(tmp_path.glob(".*tmp"))


def test_truth_outside_airglow_windows_matches_file(tmp_path: Path) -> None:
    from hstlc.synthetic import AIRGLOW_WINDOWS

    ds = make_cos_fuv(tmp_path, exptime=100.0, background_rate=0.0, segments=("FUVB",), seed=9)
    truth = ds.truth["segments"]["FUVB"]
    with fits.open(ds.event_files[0]) as hdul:
        w, eps = hdul[1].data["WAVELENGTH"], hdul[1].data["EPSILON"].astype(np.float64)
    keep = np.ones(len(w), dtype=bool)
    for lo, hi in AIRGLOW_WINDOWS:
        keep &= ~((w >= lo) & (w <= hi))
    assert keep.sum() == truth["n_source_clean_outside_airglow_windows"] < truth["n_source_clean"]
    assert eps[keep].sum() == pytest.approx(truth["sum_epsilon_source_clean_outside_airglow_windows"])


def test_sampling_helpers_are_exact() -> None:
    from hstlc.synthetic.events import poisson_times, sample_pixels

    rng = np.random.default_rng(0)
    weights = np.array([0.0, 1.0, 0.0, 3.0, 0.0, 0.0, 6.0, 0.0])
    x = sample_pixels(rng, 200_000, weights, 100.0)
    counts = np.bincount(np.floor(x - 100.0).astype(int), minlength=8)
    assert np.all(counts[weights == 0] == 0)
    assert np.allclose(counts / counts.sum(), weights / weights.sum(), atol=0.005)
    gti = np.array([[0.0, 10.0], [20.0, 20.0], [30.5, 41.0]])
    t = poisson_times(rng, 5000.0, gti)
    assert np.all(np.diff(t) >= 0) and np.array_equal(t, t.astype(np.float32))
    inside = ((t >= 0) & (t < 10)) | ((t >= 30.5) & (t < 41))
    assert inside.all() and abs(len(t) - 5000 * 20.5) < 5 * np.sqrt(5000 * 20.5)
    ticks = poisson_times(rng, 100.0, gti, quantum=TICK)
    assert np.allclose(ticks / TICK, np.rint(ticks / TICK), atol=1e-6)
    sig = sinusoid(7.0, 0.4, t0=1.0)
    grid = np.linspace(30.5, 41.0, 200_001)
    assert sig.integral(gti) == pytest.approx(
        np.trapezoid(sig.evaluate(np.linspace(0, 10, 200_001)), np.linspace(0, 10, 200_001))
        + np.trapezoid(sig.evaluate(grid), grid),
        rel=1e-8,
    )
