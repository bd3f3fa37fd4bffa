"""The per-file read bound (``read_timeout``, issue 12 item 3): a read that stalls is one clear error."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from hstlc.errors import InputFileError
from hstlc.file_checks import check_dataset
from hstlc.timeouts import time_limit
from support.ingest import make_settings

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers here")


def test_a_block_past_its_limit_is_an_input_error_naming_the_file() -> None:
    before = signal.getitimer(signal.ITIMER_REAL)[0]  # pytest-timeout's alarm, if it uses one
    started = time.monotonic()
    with pytest.raises(InputFileError) as info, time_limit(0.2, "/data/x_corrtag_a.fits"):
        while True:
            time.sleep(0.01)
    assert 0.2 <= time.monotonic() - started < 2.0
    assert str(info.value) == (
        "x_corrtag_a.fits: reading took longer than 0.2 s; gave up (setting read_timeout)")
    after = signal.getitimer(signal.ITIMER_REAL)[0]
    assert (after == 0) if before == 0 else (before - 2.0 < after < before)  # ours is gone, theirs re-armed


@pytest.mark.slow
def test_a_callers_alarm_survives_the_limit() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        with time_limit(1.0, "x.fits"):
            pass
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 4.0 < remaining <= 5.0  # re-armed with what it had left, the handler restored
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.2)
        assert fired == [signal.SIGALRM]
        signal.setitimer(signal.ITIMER_REAL, 0.3)  # due before the limit: it bounds the block itself
        with time_limit(10.0, "x.fits"):
            time.sleep(0.5)
        assert len(fired) == 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_check_reports_a_stalled_read_as_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hstlc import file_checks
    from hstlc.synthetic import make_cos_fuv

    event = make_cos_fuv(tmp_path, "lb4m01aaq", segments=("FUVA",), exptime=20.0, seed=1).event_files[0]

    def stalled(path: Path):  # what a hung network filesystem looks like to the reader
        time.sleep(30)

    monkeypatch.setattr(file_checks, "read_event_times", stalled)
    settings = make_settings(tmp_path / "home", read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(InputFileError, match=r"lb4m01aaq_corrtag_a.fits: reading took longer than 0.3 s"):
        check_dataset(event, settings)
    assert time.monotonic() - started < 3.0
