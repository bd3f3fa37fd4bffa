"""Low-level FITS access shared by the readers: opening safely, finding HDUs and columns, keywords.

The golden rules of FORMATS.md live here: HDUs are found by EXTNAME (never by index), columns by name
case-insensitively, keywords in the HDU FORMATS.md names with a fallback to the other header. Every
problem becomes an :class:`~hstlc.errors.InputFileError` that names the file.

Compressed files (gzip or bzip2, recognised by their first bytes whatever their name) are decompressed
into a private temporary file (:func:`open_fits`), bounded in size, and read from there; every error
still names the user's file.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import math
import os
import re
import shutil
import stat
import tempfile
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning

from hstlc.domain import GTIArray, as_gti
from hstlc.errors import HstlcError, InputFileError

log = logging.getLogger(__name__)

FITS_MAGIC = b"SIMPLE  ="
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
#: Most bytes a compressed file may decompress to: the larger of these two. Real event files and
#: reference tables compress 2–10× (float columns are nearly incompressible), so 100× is a wide margin
#: for any real file, while a decompression bomb (deflate reaches ~1000×, bzip2 far more) is refused
#: after writing at most this much; the 1 GiB floor lets small, very regular files (a zero-event
#: corrtag is mostly padding) through. Module constants so that tests can lower them.
MIN_INFLATED_LIMIT = 1 << 30
MAX_INFLATE_RATIO = 100
_INFLATE_CHUNK = 1 << 20
_MISSING = object()
SKIPPED_CARDS = frozenset({"", "COMMENT", "HISTORY"})


def _expected_data_size(header: fits.Header) -> int:
    """Bytes of an HDU's data (without padding), from its structural keywords (FITS 4.0 §4.4.1.1)."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    bitpix = abs(int(header.get("BITPIX", 8)))
    dims = [int(header.get(f"NAXIS{i}", 0)) for i in range(1, naxis + 1)]
    # Random-groups HDUs have NAXIS1 = 0; that dimension does not count.
    product = math.prod(d for d in dims if d > 0) if dims and dims[0] == 0 else math.prod(dims)
    return bitpix // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + product)


def _size_text(size: int) -> str:
    """``1.0 GiB``, ``12.3 MiB``, ``900 bytes`` (for messages)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _has_content(path: Path, offset: int) -> bool:
    """Whether the bytes after ``offset`` (first block) hold anything but zero padding."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return bool(handle.read(2880).strip(b"\0"))


# --- the reading boundary ------------------------------------------------------------------------------

#: Most columns a table may declare (FITS 4.0 §7.2.1: TFIELDS ≤ 999) and axes an HDU may have.
MAX_TFIELDS = 999
MAX_NAXIS = 999
#: Longest header read (7,200 cards; an archive header has a few hundred).
MAX_HEADER_BLOCKS = 200
BLOCK = 2880
_COMMENTARY = frozenset({b"", b"COMMENT", b"HISTORY"})
_BAD_BYTE = re.compile(rb"[^\x20-\x7e]")
_INT_VALUE = re.compile(rb"^\s*([+-]?\d+)\s*(?:/.*)?$")
_STR_VALUE = re.compile(rb"^\s*'((?:[^']|'')*)'\s*(?:/.*)?$")
#: rTa (FITS 4.0 §7.3.1): repeat, type, then for P/Q the element type and (max), for A an optional width.
_TFORM_FULL = re.compile(
    r"^\s*(\d*)\s*([LXBIJKAEDCMPQ])\s*(?:(?<=[PQpq])[LXBIJKAEDCM]\s*(?:\(\s*\d*\s*\))?|(?<=[Aa])\d*)?\s*$",
    re.IGNORECASE,
)
_BITPIX = frozenset({8, 16, 32, 64, -32, -64})


def _clip(text: str, limit: int = 160) -> str:
    """``text`` on one line, printable, at most ``limit`` characters (for an error message)."""
    line = " ".join(str(text).split())
    line = "".join(c if c.isprintable() and c.isascii() else c.encode("unicode_escape").decode()
                   for c in line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_failure(exc: BaseException) -> str:
    """What an exception raised while reading a file says about the file, as one line."""
    if isinstance(exc, MemoryError):
        return "the file declares more data than can be read (out of memory)"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot read file ({_clip(exc.strerror)})"
    text = _clip(str(exc)) or type(exc).__name__
    if isinstance(exc, fits.VerifyError):
        text = text.replace(", fix it first with .verify('fix').", "")
        return f"invalid FITS header ({text})"
    if isinstance(exc, Warning):
        return f"damaged FITS file ({text})"
    return f"cannot read FITS file ({type(exc).__name__}: {text})"


@contextmanager
def input_boundary(path: str | os.PathLike[str]) -> Iterator[None]:
    """The readers' one error boundary: anything raised in the block that is not already an
    :class:`~hstlc.errors.HstlcError` (astropy's VerifyError, OSError, ValueError, KeyError, TypeError,
    IndexError, MemoryError, a warning turned into an error …) becomes an :class:`InputFileError` naming
    the file. astropy's warnings are logged at debug level; numpy casting complex to real is an error.
    KeyboardInterrupt and SystemExit pass through untouched.
    """
    p = Path(path)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", AstropyWarning)
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                yield
            finally:
                caught.extend(recorded)
    except HstlcError:
        raise
    except Exception as exc:  # the boundary: every other failure is a fault of the file
        log.debug("%s: reading failed", p.name, exc_info=True)
        raise InputFileError(p, describe_failure(exc)) from exc
    finally:
        for warning in caught:
            log.debug("%s: astropy: %s", p.name, warning.message)


def _int_card(where: str, key: str, raw: bytes | None, *, low: int, high: int | None = None) -> int:
    if raw is None:
        raise ValueError(f"{where}: missing {key} card")
    match = _INT_VALUE.match(raw)
    if match is None:
        raise ValueError(f"{where}: {key} {_clip(raw.decode('latin-1').strip())!r} is not an integer")
    value = int(match.group(1))
    if value < low or (high is not None and value > high):
        bound = f"{low}…{high}" if high is not None else f"≥ {low}"
        raise ValueError(f"{where}: {key} = {value} is out of range ({bound})")
    return value


def _str_card(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    match = _STR_VALUE.match(raw)
    return None if match is None else match.group(1).decode("ascii").replace("''", "'").strip()


def _tform_width(where: str, number: int, tform: str, width: int) -> int:
    """Bytes per row of binary-table column ``number``; raises for an invalid TFORM."""
    match = _TFORM_FULL.match(tform)
    if match is None:
        raise ValueError(f"{where}: TFORM{number} {_clip(tform)!r} is not a valid binary-table format")
    repeat = int(match.group(1) or 1)
    code = match.group(2).upper()
    if repeat > 8 * max(width, 1):
        raise ValueError(f"{where}: TFORM{number} {tform.strip()!r} repeats more than NAXIS1 can hold")
    return (repeat + 7) // 8 if code == "X" else repeat * _TFORM_BYTES[code]


def _check_hdu(where: str, index: int, cards: dict[bytes, bytes]) -> int:
    """Validate the structural cards of one HDU (FITS 4.0 §4.4.1, §7.3.1); return its data size in bytes."""
    xtension = ""
    if index > 0:
        xtension = (_str_card(cards.get(b"XTENSION")) or "").upper()
        if not xtension:
            raise ValueError(f"{where}: XTENSION card missing or not a string")
    bitpix = _int_card(where, "BITPIX", cards.get(b"BITPIX"), low=-64, high=64)
    if bitpix not in _BITPIX:
        raise ValueError(f"{where}: BITPIX = {bitpix} is not one of 8, 16, 32, 64, -32, -64")
    naxis = _int_card(where, "NAXIS", cards.get(b"NAXIS"), low=0, high=MAX_NAXIS)
    dims = [_int_card(where, f"NAXIS{i}", cards.get(f"NAXIS{i}".encode()), low=0)
            for i in range(1, naxis + 1)]
    pcount = gcount = None
    if index > 0:
        pcount = _int_card(where, "PCOUNT", cards.get(b"PCOUNT", b"0"), low=0)
        gcount = _int_card(where, "GCOUNT", cards.get(b"GCOUNT", b"1"), low=0)
    if xtension == "BINTABLE":
        if bitpix != 8 or naxis != 2 or gcount != 1:
            raise ValueError(f"{where}: a binary table needs BITPIX = 8, NAXIS = 2, GCOUNT = 1")
        tfields = _int_card(where, "TFIELDS", cards.get(b"TFIELDS"), low=0, high=MAX_TFIELDS)
        width = 0
        for number in range(1, tfields + 1):
            raw = cards.get(f"TFORM{number}".encode())
            if raw is None:
                raise ValueError(f"{where}: TFORM{number} card missing (TFIELDS = {tfields})")
            tform = _str_card(raw)
            if tform is None:
                value = _clip(raw.decode("ascii").split("/")[0].strip())
                raise ValueError(f"{where}: TFORM{number} {value!r} is not a valid binary-table format")
            width += _tform_width(where, number, tform, dims[0])
        if width != dims[0]:
            raise ValueError(f"{where}: the TFORMs add up to {width} bytes per row, NAXIS1 says {dims[0]}")
    if naxis == 0:
        return 0
    product = math.prod(d for d in dims if d > 0) if index == 0 and dims[0] == 0 else math.prod(dims)
    return abs(bitpix) // 8 * (gcount or 1) * ((pcount or 0) + product)


def check_structure(path: Path, size: int, *, shown: Path | None = None, what: str = "the file") -> None:
    """Walk the file's headers as raw cards before astropy sees them and refuse what cannot be read
    safely: non-ASCII or control characters in a card, unparsable sizes, TFIELDS over 999, invalid
    TFORMs, and any HDU whose declared data runs past the end of the file (so a hostile NAXIS2 or
    PCOUNT never makes anything allocate). Raises ``InputFileError`` naming the HDU and the card, and
    the file as ``shown`` (default ``path``; the user's file when ``path`` is its decompressed copy,
    then ``what`` is ``"the decompressed file"``).
    """
    shown = shown or path
    offset, index = 0, 0
    with open(path, "rb") as handle:
        while offset < size:
            handle.seek(offset)
            first = handle.read(8)
            if index > 0 and not first.strip(b"\0 "):
                return  # zero padding after the last HDU (reported by open_fits if it holds anything)
            cards: dict[bytes, bytes] = {}
            start, ended = offset, False
            where = "PRIMARY HDU" if index == 0 else f"HDU {index}"
            handle.seek(offset)
            while not ended:
                if offset - start >= MAX_HEADER_BLOCKS * BLOCK:
                    raise InputFileError(
                        shown, f"{where}: header longer than {MAX_HEADER_BLOCKS * BLOCK // 80} cards "
                        "(no END card found)"
                    )
                block = handle.read(BLOCK)
                if len(block) < BLOCK:
                    raise InputFileError(
                        shown, f"truncated FITS file: the header of {where} ends at byte {size} without END"
                        + ("" if what == "the file" else f" ({what})")
                    )
                offset += BLOCK
                clean = _BAD_BYTE.search(block) is None
                for pos in range(0, BLOCK, 80):
                    card = block[pos : pos + 80]
                    key = card[:8].rstrip()
                    if key == b"END":
                        ended = True
                        break
                    if key in _COMMENTARY:
                        continue
                    if not clean and _BAD_BYTE.search(card):
                        bad = card.decode("latin-1")
                        raise InputFileError(
                            shown, f"{where}: card {_clip(bad[:8].strip())} holds non-ASCII or control "
                            f"characters: {_clip(bad.strip(), 60)}"
                        )
                    if card[8:10] == b"= ":
                        cards.setdefault(key, card[10:])
            name = _str_card(cards.get(b"EXTNAME"))
            if name:
                where = f"{name.upper()} HDU"
            try:
                data_size = _check_hdu(where, index, cards)
            except ValueError as exc:
                raise InputFileError(shown, str(exc)) from None
            end = offset + data_size
            if end > size:
                raise InputFileError(
                    shown, f"truncated FITS file: the {where.removesuffix(' HDU')} HDU needs {end} bytes, "
                    f"{what} has {size}"
                )
            offset = end + (-data_size % BLOCK)
            index += 1


def _regular_fd(path: Path) -> tuple[int, os.stat_result]:
    """A read-only descriptor of ``path`` if it is a regular file, opened so that it cannot block
    (``O_NONBLOCK``: a FIFO or a device is never waited on); raises ``InputFileError`` otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(path, "not a regular file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):  # swapped between stat and open
        os.close(fd)
        raise InputFileError(path, "not a regular file")
    return fd, info


def _compression(head: bytes) -> str | None:
    """``"gzip"`` or ``"bzip2"`` when ``head`` (a file's first bytes) is that signature, else None."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC) and head[3:4] in (b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"):
        return "bzip2"
    return None


def _open_regular(path: Path) -> tuple[int, str | None]:
    """The size of ``path`` and its compression (``None``, ``"gzip"``, ``"bzip2"``, from its first bytes)
    if it is a regular file starting with the FITS or a compression signature (see :func:`_regular_fd`);
    raises ``InputFileError`` otherwise."""
    fd, info = _regular_fd(path)
    try:
        head = os.read(fd, len(FITS_MAGIC))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    compression = _compression(head)
    if compression is None and head != FITS_MAGIC:
        raise InputFileError(path, "not a FITS file (no SIMPLE card at the start)")
    return info.st_size, compression


def _plain_name(name: str) -> str:
    """``x_corrtag_a.fits`` for ``x_corrtag_a.fits.gz`` (or ``.bz2``); other names unchanged."""
    lowered = name.lower()
    for suffix in (".gz", ".bz2"):
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _inflate(path: Path, compression: str, size: int, folder: Path) -> tuple[Path, int]:
    """Decompress ``path`` (``size`` bytes, ``compression`` ``"gzip"``/``"bzip2"``) into ``folder``;
    return the decompressed file and its size.

    Decompresses 1 MiB at a time (memory stays bounded) and stops with an ``InputFileError`` naming
    ``path`` at the first problem: the data is not FITS (checked on the first bytes, so a stream of
    zeros stops at once), the stream is truncated or corrupted, or it grows past
    ``max(MIN_INFLATED_LIMIT, MAX_INFLATE_RATIO × size)`` (a decompression bomb).
    """
    limit = max(MIN_INFLATED_LIMIT, MAX_INFLATE_RATIO * size)
    fd, _ = _regular_fd(path)
    target = folder / _plain_name(path.name)
    written = 0
    with os.fdopen(fd, "rb") as raw, open(target, "xb") as out:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compression == "gzip" else bz2.BZ2File(raw, "rb")
        with stream:
            while chunk := _inflate_chunk(path, stream, compression):
                if written == 0 and not chunk.startswith(FITS_MAGIC):
                    raise InputFileError(
                        path, f"{compression}-compressed, but not a FITS file inside (no SIMPLE card at the "
                        "start)"
                    )
                written += len(chunk)
                if written > limit:
                    raise InputFileError(
                        path, f"refused: the {compression} data decompresses to more than "
                        f"{_size_text(limit)} (over {limit // max(size, 1)}× the {_size_text(size)} file; "
                        "a decompression bomb?)"
                    )
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise InputFileError(
                        path, f"cannot decompress into {folder.parent} ({exc.strerror or exc}); set TMPDIR "
                        "to a folder with room"
                    ) from None
    if written == 0:
        raise InputFileError(path, f"{compression}-compressed, but empty inside")
    log.debug("%s: decompressed (%s) to %s", path.name, compression, _size_text(written))
    return target, written


def _inflate_chunk(path: Path, stream: gzip.GzipFile | bz2.BZ2File, compression: str) -> bytes:
    """The next (at most 1 MiB) decompressed bytes of ``stream``; ``b""`` at its end."""
    try:
        return stream.read(_INFLATE_CHUNK)
    except EOFError:
        raise InputFileError(path, f"truncated {compression} file (the compressed data ends early)") from None
    except OSError as exc:
        if exc.errno is not None:
            raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None
        raise InputFileError(path, f"damaged {compression} data ({_clip(str(exc), 80)})") from None
    except (zlib.error, ValueError) as exc:
        raise InputFileError(path, f"damaged {compression} data ({_clip(str(exc), 80)})") from None


@contextmanager
def open_fits(path: str | os.PathLike[str]) -> Iterator[fits.HDUList]:
    """Open a FITS file read-only with memory mapping; raise :class:`InputFileError` for anything wrong.

    This is the readers' boundary (:func:`input_boundary`): whatever goes wrong while the file is open,
    in astropy, numpy or a header value, ends as an ``InputFileError`` naming the file. Checks, in
    order: the file is a regular file (never opened otherwise), starts with the FITS signature, its raw
    headers are sound and their declared sizes fit in the file (:func:`check_structure`), astropy can
    parse every header and card, and no bytes are left unread after the last HDU.

    A gzip or bzip2 file (by its first bytes: ``1f 8b`` or ``BZh``, whatever its name) is first
    decompressed (:func:`_inflate`) into a private temporary folder (``tempfile.mkdtemp``, under
    ``$TMPDIR``), which is removed when the block ends; the checks above then run on that copy, and
    every error names ``path``.
    """
    p = Path(path)
    with input_boundary(p):
        size, compression = _open_regular(p)
        if compression is None:
            with _open_checked(p, p, size) as hdul:
                yield hdul
            return
        cache = _INFLATED.get()
        key = _file_key(p)
        folder = None
        try:
            if cache is not None and key is not None and key in cache:
                source, inflated = cache[key]
            else:
                folder = Path(tempfile.mkdtemp(prefix="hstlc-inflate-"))
                source, inflated = _inflate(p, compression, size, folder)
                if cache is not None and key is not None:
                    cache[key], folder = (source, inflated), None  # removed by reuse_decompressed
            try:
                with _open_checked(source, p, inflated, what="the decompressed file") as hdul:
                    yield hdul
            except HstlcError as exc:
                if isinstance(exc, InputFileError) and str(source) in exc.problem:
                    raise type(exc)(exc.path, exc.problem.replace(str(source), p.name)) from None
                raise
            except Exception as exc:  # what input_boundary would say, without the temporary path
                raise InputFileError(p, describe_failure(exc).replace(str(source), p.name)) from exc
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


#: The decompressed copies kept by :func:`reuse_decompressed` (file identity → copy and its size).
_INFLATED: ContextVar[dict[tuple[int, ...], tuple[Path, int]] | None] = ContextVar(
    "hstlc_inflated", default=None
)


def _file_key(path: Path) -> tuple[int, ...] | None:
    """What identifies an unchanged file: device, inode, size and modification time."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@contextmanager
def reuse_decompressed() -> Iterator[None]:
    """Within the block, a compressed file that :func:`open_fits` opens again (unchanged) is not
    decompressed again: its temporary copy is kept until the block ends, then removed. Nested blocks
    share the outer one's copies. (``read_dataset`` detects the product, then reads it: one
    decompression instead of two.)"""
    if _INFLATED.get() is not None:
        yield
        return
    cache: dict[tuple[int, ...], tuple[Path, int]] = {}
    token = _INFLATED.set(cache)
    try:
        yield
    finally:
        _INFLATED.reset(token)
        for folder in {source.parent for source, _ in cache.values()}:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _open_checked(source: Path, shown: Path, size: int, *, what: str = "the file") -> Iterator[fits.HDUList]:
    """:func:`check_structure`, astropy's open and :func:`_check_parsed` of ``source`` (``size`` bytes),
    every error naming ``shown``."""
    check_structure(source, size, shown=shown, what=what)
    try:
        hdul = fits.open(source, mode="readonly", memmap=True, lazy_load_hdus=False)
    except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        if size % 2880:
            raise InputFileError(shown, f"truncated FITS file ({_clip(str(exc))})") from None
        raise InputFileError(shown, f"cannot read FITS file ({_clip(str(exc))})") from None
    try:
        _check_parsed(shown, hdul, size, source=source, what=what)
        yield hdul
    finally:
        hdul.close()


def _check_parsed(p: Path, hdul: fits.HDUList, size: int, *, source: Path | None = None,
                  what: str = "the file") -> None:
    """Every HDU astropy parsed is sound, every card value parses, and nothing is left unread (errors
    name ``p``; the bytes read are those of ``source``, default ``p``)."""
    parsed_end = 0
    for index, hdu in enumerate(hdul):
        where = "PRIMARY HDU" if index == 0 else f"HDU {index}"
        try:
            name = str(hdu.header.get("EXTNAME", "")).strip()
        except (fits.VerifyError, ValueError):
            name = ""
        where = f"{name.upper()} HDU" if name else where
        if isinstance(hdu, fits.hdu.base._CorruptedHDU):
            raise InputFileError(p, f"{where} is corrupted (its header does not describe valid data)")
        for card in hdu.header.cards:
            if card.keyword in SKIPPED_CARDS:
                continue
            try:
                card.value  # noqa: B018 - parses the card
            except (fits.VerifyError, ValueError) as exc:
                key = card.keyword or "(blank)"
                del exc
                # the card as written (astropy's .image re-renders it)
                image = _clip(str(getattr(card, "_image", None) or card.image).strip(), 60)
                raise InputFileError(p, f"{where}: card {key} cannot be parsed ({image!r})") from None
        info = hdu.fileinfo()
        if info is None:
            continue
        end = int(info["datLoc"]) + _expected_data_size(hdu.header)
        if end > size:
            raise InputFileError(
                p, f"truncated FITS file: the {name or 'PRIMARY'} HDU needs {end} bytes, {what} has {size}"
            )
        parsed_end = max(parsed_end, int(info["datLoc"]) + int(info["datSpan"]))
    if size > parsed_end and _has_content(source or p, parsed_end):
        # astropy silently stops at a damaged or partial header: bytes left unread mean a bad file.
        raise InputFileError(
            p, f"truncated or damaged FITS file: {size - parsed_end} bytes after HDU {len(hdul) - 1} "
            "could not be read"
        )


def extname(hdu: Any) -> str:
    return str(hdu.header.get("EXTNAME", "")).strip().upper()


def find_hdus(hdul: fits.HDUList, name: str) -> list[Any]:
    """All HDUs whose EXTNAME is ``name`` (case-insensitive), in file order."""
    wanted = name.upper()
    return [hdu for hdu in hdul if extname(hdu) == wanted]


def find_hdu(hdul: fits.HDUList, name: str, *, highest_extver: bool = False) -> Any | None:
    """The HDU named ``name``: the first one, or the one with the largest EXTVER (default EXTVER 1)."""
    hdus = find_hdus(hdul, name)
    if not hdus:
        return None
    if highest_extver:
        return max(enumerate(hdus), key=lambda pair: (int(pair[1].header.get("EXTVER", 1)), pair[0]))[1]
    return hdus[0]


def require_hdu(path: str | os.PathLike[str], hdul: fits.HDUList, name: str) -> Any:
    """The first HDU named ``name``, which the file's kind (:func:`~hstlc.readers.detect.classify`) says it
    has; :class:`InputFileError` if it has none after all (the file changed since it was classified)."""
    hdu = find_hdu(hdul, name)
    if hdu is None:
        raise InputFileError(path, f"no {name} extension")
    return hdu


def is_table(hdu: Any) -> bool:
    return isinstance(hdu, fits.BinTableHDU | fits.TableHDU)


def _ttypes(header: fits.Header) -> list[str] | None:
    """The TTYPEn names of a table header in column order (None if a column has no usable name)."""
    try:
        count = int(header.get("TFIELDS", 0))
    except (TypeError, ValueError):
        return None
    names = []
    for i in range(1, count + 1):
        value = header.get(f"TTYPE{i}")
        if not isinstance(value, str) or not value.strip():
            return None
        names.append(value.strip())
    return names


def column_names(hdu: Any) -> dict[str, str]:
    """Upper-case column name → the name as written in the file (from the TTYPEn cards when usable,
    which avoids building astropy's column definitions just to list them)."""
    if not is_table(hdu):
        return {}
    names = _ttypes(hdu.header)
    if names is None or len({n.upper() for n in names}) != len(names):
        # astropy's view; a column without a (string) TTYPE has no usable name and is left out
        return {c.name.upper(): c.name for c in hdu.columns if isinstance(c.name, str) and c.name.strip()}
    return {name.upper(): name for name in names}


#: Binary-table TFORM codes: bytes per element and, for the numeric ones read directly, the dtype.
_TFORM_BYTES = {"L": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16, "P": 8,
                "Q": 16}
_TFORM_DTYPE = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: Largest read of table rows at a time: small enough that the block stays in the CPU cache while each
#: column is copied out of it (4 MiB: 0.13–0.15 s for the six columns of a 10⁷-event FUV pair, against
#: 0.21 s with 32 MiB blocks and 0.19 s copying out of a memory map), and it bounds the memory beyond the
#: columns themselves.
_BLOCK_BYTES = 4 << 20
_TFORM = re.compile(r"^\s*(\d*)\s*([LXBIJKAEDCMPQ])", re.IGNORECASE)


def _direct_columns(path: Path, hdu: Any, wanted: Sequence[str]) -> dict[str, npt.NDArray[Any]] | None:
    """Plain numeric columns of a binary table read straight from the file (FITS 4.0 §7.3), or None
    when astropy's general reader is needed (scaled, multi-dimensional, logical, string, variable-length
    columns, an empty table, or a header that does not add up).

    Same values and dtypes as astropy gives (native byte order), without building its column objects.
    The bytes are read from the file astropy opened (``hdu.fileinfo()["file"]``: the decompressed copy
    of a compressed ``path``); None if that is not a plain file on disk.
    """
    if not isinstance(hdu, fits.BinTableHDU):
        return None
    header = hdu.header
    info = hdu.fileinfo()
    names = _ttypes(header)
    if info is None or names is None:
        return None
    opened = info.get("file")
    if opened is not None:
        name = getattr(opened, "name", None)
        if getattr(opened, "compression", None) or getattr(opened, "file_like", False) or not isinstance(
            name, str
        ):
            return None
        path = Path(name)
    try:
        rows, width = int(header["NAXIS2"]), int(header["NAXIS1"])
    except (KeyError, TypeError, ValueError):
        return None
    if rows <= 0:
        return None
    layout: dict[str, tuple[int, int, str, int]] = {}  # NAME → (column number, byte offset, code, repeat)
    offset = 0
    for number, name in enumerate(names, start=1):
        match = _TFORM.match(str(header.get(f"TFORM{number}", "")))
        if match is None:
            return None
        repeat = int(match.group(1) or 1)
        code = match.group(2).upper()
        layout[name.upper()] = (number, offset, code, repeat)
        offset += (repeat + 7) // 8 if code == "X" else repeat * _TFORM_BYTES[code]
    if offset != width or len(layout) != len(names):
        return None
    plan = []
    for name in dict.fromkeys(n.upper() for n in wanted):
        number, start, code, repeat = layout[name]
        if code not in _TFORM_DTYPE or repeat < 1:
            return None
        if any(f"{key}{number}" in header for key in ("TSCAL", "TZERO", "TDIM")):
            return None
        plan.append((name, start, np.dtype(_TFORM_DTYPE[code]), repeat))
    row_type = np.dtype({
        "names": [p[0] for p in plan],
        "formats": [dt if repeat == 1 else (dt, (repeat,)) for _, _, dt, repeat in plan],
        "offsets": [p[1] for p in plan],
        "itemsize": width,
    })
    out = {name: np.empty((rows, repeat) if repeat > 1 else rows, dtype=dt.newbyteorder("="))
           for name, _, dt, repeat in plan}
    # Whole rows are read with plain reads into one reused buffer (at most _BLOCK_BYTES), then each
    # column is copied out with its byte order fixed while the block is still in the cache: faster than
    # copying each column out of a memory map, which pays a page fault per page per pass.
    step = max(1, min(rows, _BLOCK_BYTES // width))
    buffer = np.empty(step, dtype=row_type)
    raw = buffer.view(np.uint8).data  # a memoryview: what readinto fills
    with open(path, "rb") as handle:
        handle.seek(int(info["datLoc"]))
        for start in range(0, rows, step):
            count = min(step, rows - start)
            want, done = count * width, 0
            while done < want:
                got = handle.readinto(raw[done:want])
                if not got:
                    raise OSError(f"the table ends {want - done} bytes early")
                done += got
            for name, column in out.items():
                column[start : start + count] = buffer[name][:count]
    return out


def native(array: npt.ArrayLike, dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]:
    """A contiguous native-byte-order copy (so the memory map can be released)."""
    arr = np.asarray(array)
    target = np.dtype(dtype) if dtype is not None else arr.dtype.newbyteorder("=")
    return np.array(arr, dtype=target, copy=True, order="C")


def read_columns(
    path: Path,
    hdu: Any,
    names: Sequence[str],
    *,
    optional: Sequence[str] = (),
    hint: str = "",
) -> dict[str, npt.NDArray[Any]]:
    """Read ``names`` (required) and ``optional`` columns of a table HDU as native arrays.

    Keys are the upper-case names. A missing required column raises ``InputFileError`` naming the
    extension and the column, followed by ``hint`` (e.g. ``(is this a COS corrtag?)``).
    """
    where = extname(hdu) or "table"
    available = column_names(hdu)
    for name in names:
        if name.upper() not in available:
            suffix = f" {hint}" if hint else ""
            raise InputFileError(path, f"{where} extension has no {name.upper()} column{suffix}")
    wanted = [n for n in names] + [n for n in optional if n.upper() in available]
    try:
        direct = _direct_columns(path, hdu, wanted)
        if direct is not None:
            return direct
        data = hdu.data
        out: dict[str, npt.NDArray[Any]] = {}
        for name in wanted:
            if data is None:
                col = hdu.columns[available[name.upper()]]
                out[name.upper()] = np.zeros(0, dtype=col.dtype.base if col.dtype is not None else float)
                continue
            out[name.upper()] = native(data.field(available[name.upper()]))
    except (OSError, ValueError, TypeError) as exc:
        raise InputFileError(path, f"cannot read the {where} table ({exc})") from None
    return out


def header_value(
    headers: Sequence[fits.Header], key: str, default: Any = _MISSING, *, path: Path | None = None,
    where: str = "",
) -> Any:
    """The first value of ``key`` in ``headers`` (the HDU FORMATS.md names first, then the fallback).

    Without a default a missing keyword raises ``InputFileError`` (``missing keyword EXPSTART (…)``).
    """
    for header in headers:
        if header is None:
            continue
        if key in header:
            value = header[key]
            if isinstance(value, fits.card.Undefined):
                continue
            return value.strip() if isinstance(value, str) else value
    if default is _MISSING:
        assert path is not None
        place = f" ({where})" if where else ""
        raise InputFileError(path, f"missing keyword {key}{place}")
    return default


def header_dict(*headers: fits.Header | None) -> dict[str, Any]:
    """Keyword → value of the given headers merged (later ones win), without COMMENT/HISTORY cards."""
    merged: dict[str, Any] = {}
    for header in headers:
        if header is None:
            continue
        for card in header.cards:
            key = card.keyword
            if key in SKIPPED_CARDS:
                continue
            value = card.value
            if isinstance(value, fits.card.Undefined):
                value = None
            elif isinstance(value, str):
                value = value.strip()
            merged[key] = value
    return merged


def read_gti(path: Path, hdul: fits.HDUList, exptime: float) -> GTIArray:
    """The GTI table with the highest EXTVER as an (N, 2) array, or ``[[0, exptime]]`` if there is none."""
    hdu = find_hdu(hdul, "GTI", highest_extver=True)
    if hdu is None:
        return as_gti([[0.0, float(exptime)]])
    cols = read_columns(path, hdu, ["START", "STOP"])
    try:
        return as_gti(np.column_stack([cols["START"].astype(np.float64), cols["STOP"].astype(np.float64)]))
    except ValueError as exc:
        extver = hdu.header.get("EXTVER", 1)
        raise InputFileError(path, f"GTI extension (EXTVER {extver}) is invalid: {exc}") from None


def read_timeline(path: Path, hdul: fits.HDUList) -> dict[str, npt.NDArray[Any]] | None:
    """The TIMELINE extension's columns with lower-case names, or ``None`` if the file has none."""
    hdu = find_hdu(hdul, "TIMELINE", highest_extver=True)
    if hdu is None or not is_table(hdu):
        return None
    names = list(column_names(hdu))
    cols = read_columns(path, hdu, names)
    return {name.lower(): arr for name, arr in cols.items()}


def as_int(value: Any, default: int = 0) -> int:
    """An integer keyword value; ``N/A``, blanks and non-numbers give ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return default
    return default


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def as_str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def lookup(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """Case-insensitive ``mapping[key]``."""
    if key in mapping:
        return mapping[key]
    upper = key.upper()
    for k, v in mapping.items():
        if k.upper() == upper:
            return v
    return default


__all__ = [
    "as_float",
    "as_int",
    "as_str",
    "column_names",
    "extname",
    "find_hdu",
    "find_hdus",
    "header_dict",
    "header_value",
    "input_boundary",
    "is_table",
    "lookup",
    "native",
    "open_fits",
    "read_columns",
    "read_gti",
    "read_timeline",
    "require_hdu",
    "reuse_decompressed",
]
