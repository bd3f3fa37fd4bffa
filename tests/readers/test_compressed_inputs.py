"""Compressed inputs (issue 13 item 7, issue 12 item 5): ``.fits.gz`` / ``.fits.bz2`` (and a gzip file named
``.fits``) read exactly like the plain file, by ``check``, ``extract`` and ``ingest``; damaged or hostile
compressed files end as one ``HstlcError`` line naming the user's file; a decompression bomb is refused;
a COS ``_rawtag`` is named as uncalibrated."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.errors import HstlcError, InputFileError, UnsupportedProductError
from hstlc.ingestion.discovery import discover
from hstlc.products import read_lightcurve
from hstlc.readers import companion_files, detect_product, hdus, read_dataset, read_event_times, split_name
from hstlc.readers.detect import ProductKind
from hstlc.readers.files import RAWTAG_PROBLEM
from hstlc.synthetic import make_cos_fuv
from hstlc.synthetic.hostile import BOMB_BYTES, _bomb_tail

runner = CliRunner()
COMPRESS = {".gz": lambda b: gzip.compress(b, 6, mtime=0), ".bz2": lambda b: bz2.compress(b, 9)}


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Decompressed copies go to a folder of this test's own, so that a test can see them removed."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _compress_files(files: list[Path], dest: Path, suffix: str, *, keep_name: bool = False) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for f in files:
        target = dest / (f.name if keep_name else f.name + suffix)
        target.write_bytes(COMPRESS[suffix](f.read_bytes()))
        out.append(target)
    return out


@pytest.fixture
def plain(tmp_path: Path):
    return make_cos_fuv(tmp_path / "plain", "lb4m01aaq", exptime=60.0, source_rate=20.0, x1d=True, seed=3)


def _same_dataset(a, b) -> None:
    assert [s.name for s in a.segments] == [s.name for s in b.segments]
    for sa, sb in zip(a.segments, b.segments, strict=True):
        for column in ("time", "x", "y", "wavelength", "epsilon", "dq"):
            x, y = getattr(sa.events, column), getattr(sb.events, column)
            assert x.dtype == y.dtype and np.array_equal(x, y), column
        assert np.array_equal(sa.gti, sb.gti)
    assert a.observation.rootname == b.observation.rootname


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".gz", ".bz2"])
@pytest.mark.parametrize("keep_name", [False, True], ids=["suffixed", "named-fits"])
def test_compressed_dataset_reads_like_the_plain_one(plain, tmp_path: Path, private_tmpdir: Path,
                                                     suffix: str, keep_name: bool) -> None:
    files = _compress_files([*plain.event_files, plain.x1d], tmp_path / "c", suffix, keep_name=keep_name)
    a = files[0]
    assert detect_product(a) is ProductKind.COS_FUV_CORRTAG
    assert detect_product(files[2]) is ProductKind.COS_X1D
    got = read_dataset(a)
    _same_dataset(read_dataset(plain.event_files[0]), got)
    assert got.files == tuple(str(f) for f in files)  # both segments and the x1d, compressed names
    obs, times = read_event_times(files[1])
    assert obs.filename == files[1].name and len(times) == len(read_event_times(plain.event_files[1])[1])
    assert list(private_tmpdir.iterdir()) == []  # the decompressed copies are gone


def test_names_and_companions_of_compressed_files(tmp_path: Path) -> None:
    for name in ("lb4m01aaq_corrtag_a.fits.gz", "lb4m01aaq_corrtag_b.fits", "lb4m01aaq_x1d.fits.bz2"):
        (tmp_path / name).write_bytes(b"x")
    assert split_name(tmp_path / "lb4m01aaq_corrtag_a.fits.gz") == ("lb4m01aaq", "corrtag_a")
    assert split_name("LB4M01AAQ_X1D.FITS.BZ2") == ("lb4m01aaq", "x1d")
    files = companion_files(tmp_path / "lb4m01aaq_corrtag_b.fits")
    assert [p.name for p in files.files] == ["lb4m01aaq_corrtag_a.fits.gz", "lb4m01aaq_corrtag_b.fits",
                                              "lb4m01aaq_x1d.fits.bz2"]
    assert companion_files(tmp_path / "lb4m01aaq_x1d.fits.bz2").event_files == files.event_files
    with pytest.raises(UnsupportedProductError, match="file name is not"):
        split_name("lb4m01aaq_corrtag_a.fits.zip")


def test_mixed_compression_pair_is_one_dataset(plain, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (a,) = _compress_files([plain.event_files[0]], folder, ".gz")
    (folder / plain.event_files[1].name).write_bytes(plain.event_files[1].read_bytes())
    _same_dataset(read_dataset(plain.event_files[0]), read_dataset(a))


def test_discovery_recognises_compressed_names(tmp_path: Path) -> None:
    names = ["lb4m01aaq_corrtag_a.fits.gz", "lb4m01aaq_corrtag_b.fits.bz2", "lb4m01aaq_x1d.fits.gz",
             "lb4m02aaq_corrtag.fits.bz2", "o8k401010_tag.fits.gz", "o8k401010_x1d.fits.gz",
             "lb4m03aaq_corrtag_a.fits", "lb4m03aaq_corrtag_a.fits.gz", "lb4m05aaq_rawtag_a.fits.gz",
             "lb4m06aaq_rawtag.fits", "notes.txt.gz"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    found = discover(tmp_path)
    by_root = {c.rootname: c for c in found.candidates}
    assert sorted(by_root) == ["lb4m01aaq", "lb4m02aaq", "lb4m03aaq", "o8k401010"]
    fuv = by_root["lb4m01aaq"]
    assert [p.name for p in fuv.files] == names[:3] and fuv.kinds == ("corrtag_a", "corrtag_b")
    assert by_root["o8k401010"].tag is not None and by_root["o8k401010"].x1d is not None
    assert [p.name for p in by_root["lb4m03aaq"].event_files] == ["lb4m03aaq_corrtag_a.fits"]
    reasons = {s.path.name: s.reason for s in found.skipped}
    assert reasons == {
        "lb4m03aaq_corrtag_a.fits.gz": "a second corrtag_a file of lb4m03aaq in this folder",
        "lb4m05aaq_rawtag_a.fits.gz": RAWTAG_PROBLEM,
        "lb4m06aaq_rawtag.fits": RAWTAG_PROBLEM,
        "notes.txt.gz": "not a corrtag, tag or x1d file",
    }


# --- damaged and hostile compressed files: one clear line naming the user's file ---------------------------


def _damaged(blob: bytes) -> dict[str, tuple[bytes, str]]:
    packed = gzip.compress(blob, 6, mtime=0)
    corrupt = bytearray(packed)
    corrupt[len(corrupt) // 2] ^= 0xFF
    return {
        "truncated gzip": (packed[: len(packed) // 2],
                           "truncated gzip file (the compressed data ends early)"),
        "truncated bzip2": (bz2.compress(blob)[:5000],
                            "truncated bzip2 file (the compressed data ends early)"),
        "corrupt deflate": (bytes(corrupt), "damaged gzip data ("),
        "corrupt bzip2": (b"BZh9" + bytes(range(256)) * 4, "damaged bzip2 data ("),
        "not FITS inside": (gzip.compress(b"hello world" * 100),
                            "gzip-compressed, but not a FITS file inside (no SIMPLE card at the start)"),
        "empty inside": (gzip.compress(b""), "gzip-compressed, but empty inside"),
        "truncated FITS inside": (gzip.compress(blob[: 2880 * 3 + 100]),
                                  "truncated FITS file: the header of HDU 1 ends at byte 8740 without END "
                                  "(the decompressed file)"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", list(_damaged(b"SIMPLE  =" + bytes(30000))))
def test_damaged_compressed_files(plain, tmp_path: Path, private_tmpdir: Path, case: str) -> None:
    data, message = _damaged(plain.event_files[0].read_bytes())[case]
    target = tmp_path / "lb4m07aaq_corrtag_a.fits.gz"
    target.write_bytes(data)
    with pytest.raises(InputFileError) as info:
        read_event_times(target)
    assert str(info.value).startswith(f"{target.name}: {message}")
    assert "\n" not in str(info.value) and str(private_tmpdir) not in str(info.value)
    assert info.value.path == target
    assert list(private_tmpdir.iterdir()) == []


def test_size_check_names_the_decompressed_size(plain, tmp_path: Path) -> None:
    blob = bytearray(plain.event_files[0].read_bytes())
    pos = blob.index(b"NAXIS2  =", 2880)
    blob[pos : pos + 80] = b"NAXIS2  = ".ljust(10) + b"2000000000".rjust(20) + b" " * 50
    target = tmp_path / "lb4m01aaq_corrtag_a.fits.gz"
    target.write_bytes(gzip.compress(bytes(blob)))
    with pytest.raises(InputFileError, match=r"^lb4m01aaq_corrtag_a\.fits\.gz: truncated FITS file: the "
                       r"EVENTS HDU needs \d+ bytes, the decompressed file has \d+$"):
        read_event_times(target)


@pytest.mark.slow
def test_bomb_is_refused_at_the_real_limit(plain, tmp_path: Path, private_tmpdir: Path) -> None:
    """A 1.5 MiB gzip that inflates to 1.5 GiB: refused once 1 GiB is written (the limit is
    max(1 GiB, 100 × 1.5 MiB)), in seconds, with its temporary copy removed."""
    assert (hdus.MIN_INFLATED_LIMIT, hdus.MAX_INFLATE_RATIO) == (1 << 30, 100)
    target = tmp_path / "lb4m08aaq_corrtag_a.fits.gz"
    target.write_bytes(gzip.compress(plain.event_files[0].read_bytes()) + _bomb_tail("gzip"))
    assert BOMB_BYTES > 1 << 30 and target.stat().st_size * 100 < 1 << 30
    start = time.perf_counter()
    with pytest.raises(InputFileError) as info:
        read_event_times(target)
    elapsed = time.perf_counter() - start
    ratio = (1 << 30) // target.stat().st_size
    assert str(info.value) == (
        f"{target.name}: refused: the gzip data decompresses to more than 1.0 GiB (over {ratio}× the "
        f"{target.stat().st_size / (1 << 20):.1f} MiB file; a decompression bomb?)"
    )
    assert elapsed < 60, elapsed
    assert list(private_tmpdir.iterdir()) == []


@pytest.mark.slow
def test_limit_grows_with_the_compressed_size(plain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the floor the limit is 100× the compressed size: a real event file (compressing far less)
    passes, zeros compressed 1000× do not."""
    monkeypatch.setattr(hdus, "MIN_INFLATED_LIMIT", 1 << 16)
    good = tmp_path / "lb4m01aaq_corrtag_a.fits.bz2"
    good.write_bytes(bz2.compress(plain.event_files[0].read_bytes()))
    assert good.stat().st_size * 100 > 1 << 16
    read_event_times(good)
    bomb = tmp_path / "lb4m02aaq_corrtag_a.fits.bz2"
    bomb.write_bytes(bz2.compress(plain.event_files[0].read_bytes() + bytes(64 << 20)))
    with pytest.raises(InputFileError, match=r"decompresses to more than .* a decompression bomb"):
        read_event_times(bomb)


def test_other_errors_keep_working(tmp_path: Path) -> None:
    plainly_bad = tmp_path / "lb4m09aaq_corrtag_a.fits.gz"
    plainly_bad.write_text("neither gzip nor FITS")
    with pytest.raises(InputFileError, match=r"^lb4m09aaq_corrtag_a\.fits\.gz: not a FITS file"):
        read_event_times(plainly_bad)
    with pytest.raises(InputFileError, match="file not found"):
        read_event_times(tmp_path / "nope_corrtag_a.fits.gz")


# --- rawtag ---------------------------------------------------------------------------------------------


def _rawtag(corrtag: Path, target: Path) -> Path:
    with fits.open(corrtag) as hdul:
        events = hdul["EVENTS"]
        cols = [c for c in events.columns if c.name.upper() in ("TIME", "RAWX", "RAWY", "PHA")]
        header = hdul[0].header.copy()
        header["FILETYPE"] = "UNCALIBRATED FUV TIME-TAG EVENT LIST"
        raw = fits.BinTableHDU.from_columns(fits.ColDefs(cols), header=events.header.copy())
        raw.header["EXTNAME"] = "EVENTS"
        fits.HDUList([fits.PrimaryHDU(header=header), raw, hdul["GTI"].copy()]).writeto(target)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lb4m01aaq_rawtag_a.fits", "lb4m01aaq_rawtag.fits.gz",
                                  "lb4m01aaq_corrtag_a.fits"])
def test_rawtag_is_named_uncalibrated(plain, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    raw = _rawtag(plain.event_files[0], folder / "tmp.fits")
    target = folder / name
    data = raw.read_bytes()
    target.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    raw.unlink()
    for read in (read_event_times, read_dataset):
        with pytest.raises(UnsupportedProductError) as info:
            read(target)
        assert str(info.value) == f"{name}: {RAWTAG_PROBLEM}"


def test_rawtag_in_check_cli(plain, tmp_path: Path) -> None:
    raw = _rawtag(plain.event_files[0], tmp_path / "lb4m01aaq_rawtag_a.fits")
    result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), "check", "--json", str(raw)])
    assert result.exit_code == 2
    assert json.loads(result.stdout)[0]["verdict"] == "unsupported"
    assert f"Error: {raw}: {RAWTAG_PROBLEM}" in result.stderr.splitlines()


# --- the commands ----------------------------------------------------------------------------------------


def _hstlc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    return subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


@pytest.mark.slow
def test_check_compressed_cli_and_subprocess(plain, tmp_path: Path) -> None:
    files = _compress_files(plain.event_files, tmp_path / "c", ".gz")
    args = ["--home-dir", str(tmp_path / "home"), "check", "--json", str(files[0])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["verdict"] == "good" and row["files"] == [str(f) for f in files]
    done = _hstlc(*args)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(result.stdout)


@pytest.mark.slow
def test_extract_compressed_cli_and_subprocess(tmp_path: Path) -> None:
    ds = make_cos_fuv(tmp_path / "plain", "lb4m01aaq", exptime=200.0, source_rate=20.0,
                      reference_dir=tmp_path / "ref", seed=4)
    (a, _) = _compress_files(ds.event_files, tmp_path / "c", ".bz2")
    common = ["--home-dir", str(tmp_path / "home"), "extract", "--lref-dir", str(tmp_path / "ref"),
              "--step", "5"]
    result = runner.invoke(app, [*common, str(ds.event_files[0]), "-o", str(tmp_path / "out_plain")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*common, str(a), "-o", str(tmp_path / "out_cli")])
    assert result.exit_code == 0, result.output
    done = _hstlc(*common, str(a), "-o", str(tmp_path / "out_sub"))
    assert done.returncode == 0, done.stderr
    reference = read_lightcurve(tmp_path / "out_plain" / "lb4m01aaq_curve.fits")
    for out in ("out_cli", "out_sub"):
        lc = read_lightcurve(tmp_path / out / "lb4m01aaq_curve.fits")
        for column in ("times", "bins", "gross", "background", "flux", "net"):
            assert np.array_equal(getattr(lc, column), getattr(reference, column)), column


@pytest.mark.slow
def test_ingest_files_compressed_inputs_unchanged(tmp_path: Path) -> None:
    """``hstlc ingest`` (a real subprocess): a gzip'd FUV pair, a bzip2'd one and a gzip file named
    ``.fits`` are ingested; the filed files are the input bytes under the input names."""
    incoming = tmp_path / "incoming"
    small = {"exptime": 120.0, "source_rate": 8.0, "background_rate": 0.002, "timeline": False}
    sources = [make_cos_fuv(tmp_path / "src", root, targname="WD0308-565", expstart=55500.0 + i, seed=i,
                            **small)
               for i, root in enumerate(("lb4m01aaq", "lb4m02aaq", "lb4m03aaq"), start=1)]
    _compress_files(sources[0].event_files, incoming, ".gz")
    _compress_files(sources[1].event_files, incoming, ".bz2")
    _compress_files(sources[2].event_files, incoming, ".gz", keep_name=True)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in incoming.iterdir()}
    done = _hstlc("--home-dir", str(tmp_path / "home"), "-q", "ingest", str(incoming), "--offline", "--cores",
                  "1", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ingested"] == ["lb4m01aaq", "lb4m02aaq", "lb4m03aaq"] and summary["failed"] == {}
    filed = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in (tmp_path / "home" / "filesystem").rglob("*") if p.is_file()}
    assert {name: filed.get(name) for name in digests} == digests
    assert sorted(p.name for p in (tmp_path / "home" / "outputs").rglob("*_curve.fits")) == [
        "lb4m01aaq_curve.fits", "lb4m02aaq_curve.fits", "lb4m03aaq_curve.fits"]


def test_library_errors_are_hstlc_errors(tmp_path: Path) -> None:
    target = tmp_path / "lb4m01aaq_corrtag_a.fits.gz"
    target.write_bytes(b"\x1f\x8b" + os.urandom(3000))
    with pytest.raises(HstlcError):
        read_dataset(target)


def test_stis_tag_and_x1d_compressed(tmp_path: Path) -> None:
    from hstlc.stis_corrtag import corrtag_path_for
    from hstlc.synthetic import make_stis_tag

    ds = make_stis_tag(tmp_path / "plain", "o8k401010", exptime=40.0, source_rate=20.0, seed=5)
    files = _compress_files([Path(f) for f in ds.files], tmp_path / "c", ".gz")
    tag = next(f for f in files if "_tag" in f.name)
    assert detect_product(tag) is ProductKind.STIS_TAG
    _same_dataset(read_dataset(Path(ds.files[0])), read_dataset(tag))
    assert corrtag_path_for(tag) == tag.with_name("o8k401010_corrtag.fits")
    assert corrtag_path_for(Path("d/O8K401010_TAG.FITS.BZ2")) == Path("d/O8K401010_corrtag.fits")


def test_read_dataset_decompresses_each_file_once(plain, tmp_path: Path, private_tmpdir: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    files = _compress_files(plain.event_files, tmp_path / "c", ".gz")
    with caplog.at_level(logging.DEBUG, logger="hstlc.readers.hdus"):
        read_dataset(files[0])  # detects the product, then reads both segments
    calls = [r.args[0] for r in caplog.records if "decompressed" in r.getMessage()]
    assert sorted(calls) == sorted(f.name for f in files)
    assert list(private_tmpdir.iterdir()) == []
