"""Build a :class:`~hstlc.domain.Observation` from a file's primary and EVENTS (or SCI) headers.

Each keyword is read from the HDU FORMATS.md §2.4/§3.2 names, falling back to the other header:
configuration and target keywords from the primary header, exposure keywords (EXPSTART, EXPEND,
EXPTIME, EXPFLAG, SDQFLAGS, DATE-OBS, TIME-OBS) from the EVENTS header. CENWAVE is 0 for IMAGING,
FPPOS 0 for STIS, PROPOSID an int. EXPSTART and EXPTIME are required.
"""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits

from hstlc.domain import Observation
from hstlc.errors import InputFileError
from hstlc.readers.hdus import as_float, as_int, as_str, header_dict, header_value


def rootname_of(path: Path, primary: fits.Header | None = None) -> str:
    """ROOTNAME (lower case) from the primary header, else the file name up to its first ``_``."""
    value = as_str(primary.get("ROOTNAME")) if primary is not None else ""
    if value:
        return value.lower()
    return path.name.split("_", 1)[0].lower()


def build_observation(
    path: Path,
    primary: fits.Header,
    ext: fits.Header | None,
    *,
    instrument: str,
    where: str = "EVENTS header",
) -> Observation:
    """The Observation of one file (``ext`` = its EVENTS header, or SCI header for an x1d)."""
    prim_first = [primary, ext]
    ext_first = [ext, primary]

    def p(key: str, default: object = "") -> object:
        return header_value(prim_first, key, default)

    def e(key: str, default: object = "") -> object:
        return header_value(ext_first, key, default)

    instrume = as_str(p("INSTRUME", instrument)).upper() or instrument
    is_stis = instrume == "STIS"
    obstype = as_str(p("OBSTYPE", "SPECTROSCOPIC")).upper() or "SPECTROSCOPIC"

    expstart = e("EXPSTART", None)
    if expstart is None and is_stis:
        expstart = p("TEXPSTRT", None)
    if expstart is None:
        header_value(ext_first, "EXPSTART", path=path, where=where)  # raises with the message
    exptime = e("EXPTIME", None)
    if exptime is None and is_stis:
        exptime = p("TEXPTIME", None)
    if exptime is None:
        header_value(ext_first, "EXPTIME", path=path, where=where)
    expstart_f = as_float(expstart)
    exptime_f = as_float(exptime)
    if expstart_f is None:
        raise InputFileError(path, f"keyword EXPSTART is not a number ({expstart!r})")
    if exptime_f is None:
        raise InputFileError(path, f"keyword EXPTIME is not a number ({exptime!r})")
    expend = as_float(e("EXPEND", None))
    if expend is None and is_stis:
        expend = as_float(p("TEXPEND", None))
    if expend is None:
        expend = expstart_f + exptime_f / 86400.0

    cenwave = 0 if obstype == "IMAGING" else as_int(p("CENWAVE", 0))
    fppos = 0 if is_stis else as_int(p("FPPOS", 0))
    proposid_raw = p("PROPOSID", None)
    proposid = as_int(proposid_raw, -1) if proposid_raw is not None else None
    if proposid == -1:
        proposid = None
    sdq = e("SDQFLAGS", None)

    return Observation(
        filename=path.name,
        rootname=rootname_of(path, primary),
        instrume=instrume,
        detector=as_str(p("DETECTOR")).upper(),
        telescop=as_str(p("TELESCOP", "HST")) or "HST",
        segment="" if is_stis else as_str(p("SEGMENT")).upper(),
        obstype=obstype,
        obsmode=as_str(p("OBSMODE", "TIME-TAG")).upper(),
        opt_elem=as_str(p("OPT_ELEM")).upper(),
        cenwave=cenwave,
        aperture=as_str(p("APERTURE")).upper(),
        fppos=fppos,
        targname=as_str(p("TARGNAME")),
        ra_targ=as_float(p("RA_TARG", None)),
        dec_targ=as_float(p("DEC_TARG", None)),
        equinox=as_float(p("EQUINOX", None)),
        proposid=proposid,
        cal_ver=as_str(p("CAL_VER")),
        expstart=expstart_f,
        expend=float(expend),
        exptime=exptime_f,
        expflag=as_str(e("EXPFLAG", "NORMAL")).upper() or "NORMAL",
        sdqflags=None if sdq is None else as_int(sdq),
        date_obs=as_str(e("DATE-OBS")),
        time_obs=as_str(e("TIME-OBS")),
        header=header_dict(primary, ext),
    )


__all__ = ["build_observation", "rootname_of"]
