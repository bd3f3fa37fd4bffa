"""A bound on the time one file may take to read (``read_timeout``), so no input can stall a run.

Reading is sized against the file before anything is allocated (:mod:`hstlc.readers.hdus`), so a damaged
file fails fast; this bound covers what sizing cannot (a stalled network filesystem, a pathological but
well-formed file). It uses ``SIGALRM``, so it applies in a process's main thread on POSIX — where ``hstlc
check`` and every ingest worker read — and is a no-op elsewhere. An alarm already set (pytest-timeout, a
caller's own) is kept: one due sooner bounds the block instead, a later one is re-armed afterwards.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from hstlc.errors import InputFileError


class _Expired(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in a reader swallows it."""


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None, path: str | os.PathLike[str]) -> Iterator[None]:
    """Raise :class:`InputFileError` naming ``path`` if the block runs longer than ``seconds``."""
    if not seconds or seconds <= 0 or not _usable():
        yield
        return

    earlier = signal.getitimer(signal.ITIMER_REAL)[0]
    if earlier and earlier <= seconds:  # a caller's alarm is due first: it bounds this block already
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Expired

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise InputFileError(
            Path(path), f"reading took longer than {seconds:g} s; gave up (setting read_timeout)"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier:  # re-arm the caller's alarm with the time it had left
            signal.setitimer(signal.ITIMER_REAL, max(earlier - (time.monotonic() - started), 1e-3))


__all__ = ["time_limit"]
