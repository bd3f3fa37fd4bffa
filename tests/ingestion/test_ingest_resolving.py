"""``hstlc ingest`` tells the user when it goes online and when it stops asking Sesame (issue 13, item 12):
the resolver's notices and per-name progress reach the command's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.ingestion import Progress, ingest
from support.ingest import SMALL, make_settings
from support.network import refused_url as refused


@pytest.fixture
def refused_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL on a port nobody listens on (connections are refused at once)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return refused()


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    from hstlc import synthetic as syn

    folder = tmp_path / "incoming"
    syn.make_cos_fuv(folder, "lb4m01aaq", targname="NOSUCHSTAR-1", seed=1, **SMALL)
    syn.make_cos_fuv(folder, "lb4m02aaq", targname="NOSUCHSTAR-2", seed=2, **SMALL)
    return folder


@pytest.mark.slow
def test_ingest_reports_going_online_and_stopping(catalog, tmp_path: Path, refused_url: str,
                                                  incoming: Path) -> None:
    settings = make_settings(tmp_path / "home", resolver_offline=False, sesame_url=refused_url,
                             sesame_mirrors=[], sesame_timeout=0.5)
    updates: list[Progress] = []
    summary = ingest(incoming, settings=settings, catalog=catalog, progress=updates.append)
    assert sorted(summary.ingested) == ["lb4m01aaq", "lb4m02aaq"] and summary.failed == {}
    resolving = [u for u in updates if u.phase == "resolving"]
    messages = [u.message for u in resolving if u.message]
    assert len(messages) == 2 and "Sesame" in messages[0] and "unreachable" in messages[1], messages
    assert [u.done for u in resolving if not u.message] == [1, 2]
    assert summary.resolve_seconds < 5.0


def test_the_notices_are_printed_by_the_command(tmp_path: Path, refused_url: str, incoming: Path) -> None:
    result = CliRunner().invoke(app, ["--home-dir", str(tmp_path / "home"), "ingest", str(incoming),
                                      "--cores", "1"],
                                env={"HSTLC_SESAME_URL": refused_url, "HSTLC_SESAME_MIRRORS": "",
                                     "HSTLC_SESAME_TIMEOUT": "0.5"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stderr.split())
    assert "asking CDS Sesame about 2 name(s)" in text
    assert "Sesame unreachable" in text and "--offline" in text
