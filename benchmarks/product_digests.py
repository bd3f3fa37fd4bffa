"""Digests of the products of a fixed set of generated datasets: proof that a change moved no product.

Not a test: run ``.venv/bin/python benchmarks/product_digests.py --save before.json`` on the old code and
``… --compare before.json`` on the new one (exit 1 and the differences when any product differs).

The set covers every extraction path: COS FUV pairs (calibrated with FLUXTAB/TDSTAB, uncalibrated, one
segment, airglow kept, DQ-flagged events, a GTI gap, lamp flashes with and without keywords, a sinusoid),
COS NUV, STIS first order, echelle and imaging, three bin widths, wavelength limits, a SUN_ALT cut, and
composites of two and three members. For every product it records each HDU's data sha256 and every header
card except those that change from run to run (DATE, the hstlc version, checksums).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

VOLATILE = {"DATE", "DATE-HDR", "CHECKSUM", "DATASUM", "HSTLCVER", "CREATOR", "PROCVER", "SOFTVER"}


def _digest(path: Path) -> dict[str, Any]:
    from astropy.io import fits

    out: dict[str, Any] = {}
    with fits.open(path) as hdul:
        for i, hdu in enumerate(hdul):
            cards = [
                (c.keyword, str(c.value), c.comment)
                for c in hdu.header.cards
                if c.keyword not in VOLATILE and "version" not in c.comment.lower()
            ]
            data = b"" if hdu.data is None else hdu.data.tobytes()
            out[f"{i}:{hdu.name}"] = {
                "data": hashlib.sha256(data).hexdigest(),
                "header": hashlib.sha256(json.dumps(cards).encode()).hexdigest(),
            }
    return out


def _datasets(folder: Path) -> dict[str, tuple[list[Path], dict[str, Any]]]:
    """name → (the files to extract, the ExtractionParams keywords)."""
    from hstlc import synthetic as syn

    lref, oref = folder / "lref", folder / "oref"
    d: dict[str, tuple[list[Path], dict[str, Any]]] = {}

    def fuv(name: str, root: str, **kw: Any) -> Path:
        ds = syn.make_cos_fuv(folder / name, root, **kw)
        return ds.event_files[0]

    common = dict(exptime=1500.0, source_rate=400.0, dq_fraction=0.02, benign_dq_fraction=0.01)
    cal = fuv("cal", "lb4m01aaq", reference_dir=lref, gti=[[0, 700], [900, 1500]], airglow=True,
              signal=syn.sinusoid(period=300.0, amplitude=0.2), seed=1, **common)
    uncal = fuv("uncal", "lb4m01abq", airglow=True, seed=2, **common)
    one = fuv("one", "lb4m01acq", segments=("FUVB",), reference_dir=lref, seed=3, **common)
    flashes = fuv("flash", "lb4m01adq", reference_dir=lref, lamp_flashes=[[100, 112], [800, 812]], seed=4,
                  **common)
    flashes_nokw = fuv("flashnk", "lb4m01aeq", lamp_flashes=[[300, 312]], flash_keywords=False, seed=5,
                       **common)
    flare = fuv("flare", "lb4m01afq", reference_dir=lref, signal=syn.flare(600.0, 2.0, 60.0), seed=6,
                **common)
    nuv = syn.make_cos_nuv(folder / "nuv", "lb4m02aaq", reference_dir=lref, exptime=1200.0, seed=7,
                           dq_fraction=0.02).event_files[0]
    stis1 = syn.make_stis_tag(folder / "stis1", "o8k401010", reference_dir=oref, exptime=1200.0, seed=8,
                              gti=[[0, 500], [650, 1200]]).event_files[0]
    stise = syn.make_stis_tag(folder / "stise", "o8k402010", echelle=True, reference_dir=oref, exptime=900.0,
                              seed=9).event_files[0]
    stisi = syn.make_stis_tag(folder / "stisi", "o8k403010", imaging=True, reference_dir=oref, exptime=600.0,
                              seed=10).event_files[0]
    visit2 = fuv("cal2", "lb4m11aaq", reference_dir=lref, expstart=55500.9, seed=11, **common)
    visit3 = fuv("cal3", "lb4m21aaq", reference_dir=lref, expstart=55501.4, seed=12, **common)
    for name, path in (("cos_fuv_cal", cal), ("cos_fuv_uncal", uncal), ("cos_fuv_one_segment", one),
                       ("cos_fuv_flashes", flashes), ("cos_fuv_flashes_no_keywords", flashes_nokw),
                       ("cos_fuv_flare", flare), ("cos_nuv", nuv), ("stis_first_order", stis1),
                       ("stis_echelle", stise), ("stis_imaging", stisi)):
        d[name] = ([path], {})
    d["cos_fuv_cal_step_0.5"] = ([cal], {"step": 0.5})
    d["cos_fuv_cal_step_30"] = ([cal], {"step": 30.0})
    d["cos_fuv_cal_keep_airglow"] = ([cal], {"keep_airglow": True})
    d["cos_fuv_cal_wlim"] = ([cal], {"wmin": 1200.0, "wmax": 1400.0})
    d["cos_fuv_cal_sun_alt"] = ([cal], {"max_sun_alt": 20.0})
    d["stis_echelle_step_5"] = ([stise], {"step": 5.0})
    d["composite_2"] = ([cal, visit2], {})
    d["composite_3"] = ([cal, visit2, visit3], {"step": 10.0})
    return d


def digests(folder: Path) -> dict[str, Any]:
    from hstlc.extraction import ExtractionParams, extract_file, make_composite
    from hstlc.products import write_lightcurve

    out: dict[str, Any] = {}
    products = folder / "products"
    products.mkdir()
    for name, (paths, kw) in _datasets(folder).items():
        params = ExtractionParams(**kw)
        refs = {"lref_dir": folder / "lref", "oref_dir": folder / "oref"}
        if name.startswith("composite"):
            lc = make_composite(paths, params, **refs)
        else:
            lc = extract_file(paths[0], params, **refs)
        target = write_lightcurve(lc, products / f"{name}.fits", overwrite=True)
        out[name] = _digest(target)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the digests here")
    group.add_argument("--compare", type=Path, help="compare with digests saved earlier")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        current = digests(Path(tmp))
    if args.save:
        args.save.write_text(json.dumps(current, indent=1, sort_keys=True))
        print(f"{len(current)} products, {sum(len(v) for v in current.values())} HDUs → {args.save}")
        return 0
    saved = json.loads(args.compare.read_text())
    differ = [
        f"{name} {hdu} {part}"
        for name in sorted(set(saved) | set(current))
        for hdu in sorted(set(saved.get(name, {})) | set(current.get(name, {})))
        for part in ("data", "header")
        if saved.get(name, {}).get(hdu, {}).get(part) != current.get(name, {}).get(hdu, {}).get(part)
    ]
    n = sum(len(v) for v in current.values())
    if differ:
        print(f"{len(differ)} difference(s) in {len(current)} products:\n  " + "\n  ".join(differ))
        return 1
    print(f"identical: {len(current)} products, {n} HDUs (data and headers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
