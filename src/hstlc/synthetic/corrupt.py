"""Deliberately broken input files for error-path tests."""

from __future__ import annotations

from pathlib import Path

from hstlc.synthetic.cos import EVENT_COLUMNS, make_cos_fuv
from hstlc.synthetic.fitsfile import Col, primary_hdu, table_hdu, write_hdus


def write_corrupt_files(directory: str | Path) -> dict[str, Path]:
    """Write one file per failure mode into ``directory`` and return them by name.

    - ``not_fits``: ``lbad01nfq_corrtag_a.fits`` holding plain text;
    - ``truncated``: ``lbad02trq_corrtag_a.fits``, a real corrtag cut off in the middle of its EVENTS data;
    - ``no_events``: ``lbad03neq_corrtag_a.fits``, a COS primary header and a GTI table but no EVENTS;
    - ``no_time``: ``lbad04ntq_corrtag_a.fits``, an EVENTS table with every corrtag column except TIME;
    - ``no_expstart``: ``lbad05nxq_corrtag_a.fits``, a complete corrtag whose headers lack EXPSTART.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    not_fits = directory / "lbad01nfq_corrtag_a.fits"
    not_fits.write_text("This is not a FITS file.\nSIMPLE = maybe\n")
    out["not_fits"] = not_fits

    work = directory / ".corrupt-work"
    good = make_cos_fuv(work, "lbad02trq", segments=("FUVA",), exptime=100.0, source_rate=200.0, seed=2)
    blob = good.event_files[0].read_bytes()
    truncated = directory / "lbad02trq_corrtag_a.fits"
    truncated.write_bytes(blob[: int(len(blob) * 0.6)])
    good.event_files[0].unlink()
    work.rmdir()
    out["truncated"] = truncated

    prim = {
        "TELESCOP": "HST",
        "INSTRUME": "COS",
        "DETECTOR": "FUV",
        "SEGMENT": "FUVA",
        "ROOTNAME": "lbad03neq",
        "OBSMODE": "TIME-TAG",
        "OPT_ELEM": "G130M",
        "CENWAVE": 1291,
    }
    gti_cols = [Col("START", "1D", "s"), Col("STOP", "1D", "s")]
    gti = table_hdu("GTI", gti_cols, {"START": [0.0], "STOP": [100.0]}, 1)
    no_events = directory / "lbad03neq_corrtag_a.fits"
    write_hdus(no_events, [primary_hdu(prim), gti])
    out["no_events"] = no_events

    cols = [c for c in EVENT_COLUMNS if c.name != "TIME"]
    no_time = directory / "lbad04ntq_corrtag_a.fits"
    events = table_hdu(
        "EVENTS", cols, {}, 10, header={"EXPSTART": 55000.0, "EXPTIME": 10.0, "EXPFLAG": "NORMAL"}
    )
    write_hdus(no_time, [primary_hdu({**prim, "ROOTNAME": "lbad04ntq"}), events])
    out["no_time"] = no_time

    no_exp = make_cos_fuv(
        directory,
        "lbad05nxq",
        segments=("FUVA",),
        exptime=50.0,
        source_rate=20.0,
        seed=5,
        events_header={"EXPSTART": None},
        primary_header={"EXPSTART": None},
    )
    out["no_expstart"] = no_exp.event_files[0]
    return out


__all__ = ["write_corrupt_files"]
