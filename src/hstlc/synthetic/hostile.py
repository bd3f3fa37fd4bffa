"""Hostile mutants of real-format files, for the fuzz test and ``benchmarks/fuzz_inputs.py``.

:func:`mutate` takes the bytes of a good FITS file (from :func:`make_cos_fuv`, :func:`make_cos_nuv`,
:func:`make_stis_tag`) and returns a damaged copy and a short label of what was done: byte flips in a
header or in the data, truncation, a card rewritten to a hostile value (NaN, Inf, huge or negative
sizes, wrong types, non-ASCII, NUL), a deleted card, a wrong TFORM, zero rows, a missing, duplicated or
swapped extension, a giant header, or a compressed copy (gzip or bzip2, kept under the original name):
good, holding another mutant, truncated, corrupted, not FITS inside, or a decompression bomb (the good
file followed by :data:`BOMB_BYTES` of zeros, as concatenated gzip members / bzip2 streams, ~1.5 MB /
~5 KB). Seeded: the same ``rng`` state gives the same mutant.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

BLOCK = 2880
CARD = 80

#: Values written into cards (FITS value field, columns 11–80).
HOSTILE_VALUES: tuple[bytes, ...] = (
    b"NaN", b"nan", b"Inf", b"-Inf", b"1.0E+400", b"-1", b"0", b"-9223372036854775808",
    b"9223372036854775807", b"99999999999999999999999", b"9.99e+307", b"1.5", b"T", b"F", b"''",
    b"'garbage'", b"'1J'", b"'\x00\x00\x00'", b"'\xe9\xff\xfe'", b"\xff\xfe", b"", b"= =", b"(1, 2)",
    b"'" + b"x" * 60, b"2147483648", b"1000", b"65536", b"'PE(99999999999)'", b"'9999999E'",
)
#: Cards most worth rewriting (a random card is also chosen sometimes).
TARGET_CARDS: tuple[bytes, ...] = (
    b"NAXIS", b"NAXIS1", b"NAXIS2", b"TFIELDS", b"PCOUNT", b"GCOUNT", b"BITPIX", b"XTENSION", b"EXTNAME",
    b"EXTVER", b"TFORM1", b"TFORM2", b"TFORM3", b"TTYPE1", b"TTYPE2", b"TTYPE3", b"TDIM1", b"TSCAL1",
    b"TZERO1", b"THEAP", b"EXPSTART", b"EXPTIME", b"EXPEND", b"EXPFLAG", b"ROOTNAME", b"TARGNAME",
    b"INSTRUME", b"DETECTOR", b"SEGMENT", b"OBSTYPE", b"OPT_ELEM", b"CENWAVE", b"PROPOSID", b"BLANK",
    b"SDQFLAGS", b"RA_TARG", b"FPPOS", b"SIMPLE", b"END",
)
TIME_TFORMS: tuple[bytes, ...] = (b"'1J'", b"'20A'", b"'1L'", b"'2E'", b"'1PE(10)'", b"'0E'", b"'1X'",
                                  b"'1C'", b"'E'", b"'1Z'", b"'-1E'", b"'99999999999E'")


@dataclass(frozen=True)
class Layout:
    """Byte ranges of each HDU of a file: header start, data start, data end (padded)."""

    hdus: tuple[tuple[int, int, int], ...]


def layout(blob: bytes) -> Layout:
    """Where each HDU's header and data lie in a good FITS file."""
    with warnings.catch_warnings(), fits.open(io.BytesIO(blob)) as hdul:
        warnings.simplefilter("ignore")
        spans = []
        for hdu in hdul:
            info = hdu.fileinfo()
            data = int(info["datLoc"])
            spans.append((int(info["hdrLoc"]), data, data + int(info["datSpan"])))
    return Layout(tuple(spans))


def _cards(blob: bytes, lay: Layout) -> list[int]:
    return [pos for start, data, _ in lay.hdus for pos in range(start, data, CARD)
            if blob[pos:pos + CARD].strip()]


def _set_card(card: bytes, value: bytes) -> bytes:
    keyword = card[:8]
    field = value.rjust(20) if len(value) < 20 else value
    return (keyword + b"= " + field)[:CARD].ljust(CARD)


def _find(blob: bytes, lay: Layout, keyword: bytes, rng: np.random.Generator) -> int | None:
    hits = [pos for pos in _cards(blob, lay) if blob[pos:pos + 8].rstrip() == keyword]
    return int(hits[rng.integers(len(hits))]) if hits else None


def _flip_header(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    out = bytearray(blob)
    cards = _cards(blob, lay)
    for _ in range(int(rng.integers(1, 6))):
        pos = int(cards[rng.integers(len(cards))]) + int(rng.integers(CARD))
        out[pos] = int(rng.integers(256))
    return bytes(out), "flip-header"


def _flip_data(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    out = bytearray(blob)
    spans = [(d, e) for _, d, e in lay.hdus if e > d]
    if not spans:
        return _flip_header(blob, lay, rng)
    for _ in range(int(rng.integers(1, 50))):
        d, e = spans[rng.integers(len(spans))]
        out[int(rng.integers(d, e))] = int(rng.integers(256))
    return bytes(out), "flip-data"


def _truncate(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    if rng.random() < 0.5:
        return blob[: int(rng.integers(0, len(blob)))], "truncate"
    return blob[: int(rng.integers(0, len(blob) // BLOCK)) * BLOCK], "truncate-block"


def _rewrite(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    keyword = TARGET_CARDS[rng.integers(len(TARGET_CARDS))]
    pos = _find(blob, lay, keyword, rng)
    if pos is None or rng.random() < 0.15:
        cards = _cards(blob, lay)
        pos = int(cards[rng.integers(len(cards))])
    value = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
    out = bytearray(blob)
    out[pos:pos + CARD] = _set_card(blob[pos:pos + CARD], value)
    return bytes(out), f"rewrite-{blob[pos:pos + 8].decode('ascii', 'replace').strip()}"


def _delete_card(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    keyword = (b"TTYPE1", b"TTYPE2", b"TFORM1", b"TFORM2", b"NAXIS2", b"TFIELDS", b"EXTNAME", b"EXPSTART",
               b"XTENSION", b"END")[rng.integers(10)]
    pos = _find(blob, lay, keyword, rng)
    if pos is None:
        return _rewrite(blob, lay, rng)
    out = bytearray(blob)
    out[pos:pos + CARD] = b" " * CARD
    return bytes(out), f"delete-{keyword.decode()}"


def _time_tform(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    pos = _find(blob, lay, b"TFORM1", rng)
    if pos is None:
        return _rewrite(blob, lay, rng)
    out = bytearray(blob)
    out[pos:pos + CARD] = _set_card(blob[pos:pos + CARD], TIME_TFORMS[rng.integers(len(TIME_TFORMS))])
    return bytes(out), "time-tform"


def _extensions(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    parts = [blob[s:e] for s, _, e in lay.hdus]
    choice = int(rng.integers(4))
    if len(parts) < 2:
        return _truncate(blob, lay, rng)
    i = int(rng.integers(1, len(parts)))
    if choice == 0:
        del parts[i]
        label = "drop-hdu"
    elif choice == 1:
        parts.insert(i, parts[i])
        label = "duplicate-hdu"
    elif choice == 2:
        j = int(rng.integers(1, len(parts)))
        parts[i], parts[j] = parts[j], parts[i]
        label = "swap-hdu"
    else:
        parts.insert(1, parts[0])  # a second primary header as an extension
        label = "second-primary"
    return b"".join(parts), label


def _zero_rows(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    with warnings.catch_warnings(), fits.open(io.BytesIO(blob)) as hdul:
        warnings.simplefilter("ignore")
        tables = [i for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU)]
        if not tables:
            return _truncate(blob, lay, rng)
        i = tables[rng.integers(len(tables))]
        new = fits.HDUList([h if k != i else fits.BinTableHDU(h.data[:0], header=h.header)
                            for k, h in enumerate(hdul)])
        buffer = io.BytesIO()
        new.writeto(buffer)
    return buffer.getvalue(), "zero-rows"


def _giant_header(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    _, data, _ = lay.hdus[int(rng.integers(len(lay.hdus)))]
    filler = (b"COMMENT".ljust(CARD)) * (BLOCK // CARD) * int(rng.integers(100, 1000))
    end = data - BLOCK  # insert before the last header block (which holds END)
    return blob[:end] + filler + blob[end:], "giant-header"


#: What a bomb mutant decompresses to beyond the good file: more than hstlc's default limit (the larger of
#: 1 GiB and 100× the compressed size, ``hstlc.readers.hdus.MIN_INFLATED_LIMIT``).
BOMB_BYTES = 3 << 29
_BOMB_PIECE = 16 << 20


@functools.lru_cache(maxsize=2)
def _bomb_tail(compression: str) -> bytes:
    """:data:`BOMB_BYTES` of zeros compressed, as repeated gzip members or bzip2 streams (built once)."""
    zeros = bytes(_BOMB_PIECE)
    piece = gzip.compress(zeros, 9, mtime=0) if compression == "gzip" else bz2.compress(zeros, 9)
    return piece * (BOMB_BYTES // _BOMB_PIECE)


def _compressed(data: bytes, compression: str) -> bytes:
    return gzip.compress(data, 6, mtime=0) if compression == "gzip" else bz2.compress(data, 9)


def _compress(blob: bytes, lay: Layout, rng: np.random.Generator) -> tuple[bytes, str]:
    """A gzip or bzip2 copy of ``blob``: good, of another mutant, truncated, corrupted, not FITS, a bomb."""
    compression = ("gzip", "bzip2")[int(rng.integers(2))]
    variants = ("good", "inner", "truncated", "corrupt", "not-fits", "bomb", "two-members")
    variant = variants[int(rng.integers(len(variants)))]
    label = f"{compression}-{variant}"
    if variant == "inner":
        func = MUTATIONS[int(rng.integers(len(MUTATIONS) - 1))][0]  # any but this one (the last)
        inner, inner_label = func(blob, lay, rng)
        return _compressed(inner, compression), f"{label}({inner_label})"
    if variant == "not-fits":
        junk = bytes(len(blob)) if rng.random() < 0.5 else rng.bytes(min(len(blob), 1 << 16))
        return _compressed(junk, compression), label
    if variant == "bomb":
        return _compressed(blob, compression) + _bomb_tail(compression), label
    if variant == "two-members":  # a valid multi-member / multi-stream file
        cut = int(rng.integers(1, len(blob)))
        return _compressed(blob[:cut], compression) + _compressed(blob[cut:], compression), label
    packed = _compressed(blob, compression)
    if variant == "truncated":
        return packed[: int(rng.integers(0, len(packed)))], label
    if variant == "corrupt":
        out = bytearray(packed)
        head = 10 if compression == "gzip" else 4
        for _ in range(int(rng.integers(1, 8))):
            out[int(rng.integers(head, len(out)))] = int(rng.integers(256))
        return bytes(out), label
    return packed, label


MUTATIONS: tuple[tuple[Callable[[bytes, Layout, np.random.Generator], tuple[bytes, str]], float], ...] = (
    (_flip_header, 0.2), (_flip_data, 0.1), (_truncate, 0.1), (_rewrite, 0.3), (_delete_card, 0.08),
    (_time_tform, 0.07), (_extensions, 0.08), (_zero_rows, 0.02), (_giant_header, 0.05), (_compress, 0.06),
)


def mutate(blob: bytes, rng: np.random.Generator, lay: Layout | None = None) -> tuple[bytes, str]:
    """A hostile copy of the good FITS file ``blob`` and a label naming the mutation (one or two; a
    compression is always the last)."""
    lay = lay or layout(blob)
    weights = np.array([w for _, w in MUTATIONS])
    out, labels = blob, []
    for _ in range(1 if rng.random() < 0.8 else 2):
        func = MUTATIONS[int(rng.choice(len(MUTATIONS), p=weights / weights.sum()))][0]
        try:
            out, label = func(out, lay if out is blob else layout(out), rng)
        except Exception:  # a second mutation of an already broken file: keep the first
            break
        labels.append(label)
        if func is _compress:
            break
    return out, "+".join(labels) or "none"


__all__ = ["BOMB_BYTES", "HOSTILE_VALUES", "MUTATIONS", "Layout", "layout", "mutate"]
