"""``hstlc demo``: a generated sample through db init, ingest, stats and plot, offline, in one folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.catalog.schema import BadData, Metadata
from hstlc.cli import app
from hstlc.demo import generate_sample, run_demo


def test_generate_sample_has_every_kind(tmp_path: Path) -> None:
    files = generate_sample(tmp_path / "in", tmp_path / "lref", tmp_path / "oref", scale=0.1)
    names = sorted(p.name for p in files)
    assert "lb4m01aaq_corrtag_a.fits" in names and "lb4m01abq_corrtag_b.fits" in names  # one target twice
    assert "lb4m02aaq_corrtag_a.fits" in names  # the flare
    assert "lb4m03aaq_corrtag.fits" in names  # NUV
    assert "o8k401010_tag.fits" in names and "o8k401010_x1d.fits" in names  # STIS
    assert "lb4m05aaq_corrtag_a.fits" in names  # a bad one
    assert any((tmp_path / "lref").iterdir()) and any((tmp_path / "oref").iterdir())


@pytest.mark.slow
def test_demo_runs_everything_offline_and_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo must not use the network")

    monkeypatch.setattr(requests.Session, "request", no_network)
    monkeypatch.setenv("HSTLC_DB_CONNECTION_STRING", f"sqlite:///{tmp_path / 'elsewhere.db'}")  # ignored
    folder = tmp_path / "demo"
    result = run_demo(folder, scale=0.1)
    assert result.ingest is not None and result.ingest.failed == {}
    assert sorted(result.ingest.ingested) == ["lb4m01aaq", "lb4m01abq", "lb4m02aaq", "lb4m03aaq", "o8k401010"]
    assert result.ingest.bad == {"Bad EXPFLAG": ["lb4m04aaq"], "Short Exposure": ["lb4m05aaq"]}
    assert result.catalog_url == f"sqlite:///{folder / 'hstlc.db'}"
    assert not (tmp_path / "elsewhere.db").exists()
    assert (folder / "hstlc.toml").read_text().count("resolver_offline = true") == 1
    assert len(list((folder / "composites").glob("hlsp_hstlc_*.fits"))) == 4
    with_two = folder / "composites" / "hlsp_hstlc_hst_cos-fuv_wd0308-565_g130m_1291_psa_v1_sci.fits"
    assert with_two.exists()
    assert result.stats_computed == 9
    assert result.report == folder / "plots" / "index.html" and result.report.exists()
    catalog = Catalog.from_url(result.catalog_url)
    with catalog.session() as s:
        stis = s.execute(select(Metadata).filter_by(filename="o8k401010_tag.fits")).scalar_one()
        assert (stis.instrume, stis.fppos, stis.targname) == ("STIS", 0, "V-AM-CVN")
        assert {b.filename for b in s.execute(select(BadData)).scalars()} == {
            "lb4m04aaq_corrtag_a.fits", "lb4m04aaq_corrtag_b.fits", "lb4m05aaq_corrtag_a.fits"}
    catalog.dispose()
    assert list((folder / "incoming").iterdir()) == []

    # Again: nothing new is generated or ingested; the report is rebuilt.
    again = run_demo(folder)
    assert again.generated == [] and again.ingest is not None
    assert (again.ingest.ingested, again.ingest.failed, again.ingest.composites) == ([], {}, [])


def test_demo_command_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hstlc.demo

    calls: list[Path] = []

    def fake_run_demo(folder: Path, **kwargs: object) -> hstlc.demo.DemoResult:
        calls.append(folder)
        return hstlc.demo.DemoResult(folder, folder / "hstlc.toml", "sqlite:///x.db")

    monkeypatch.setattr("hstlc.cli.demo.run_demo", fake_run_demo)
    result = CliRunner().invoke(app, ["demo", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["directory"] == str(tmp_path / "d") and data["catalog"] == "sqlite:///x.db"
    assert calls == [tmp_path / "d"]


def test_demo_refuses_a_folder_with_someone_elses_settings(tmp_path: Path) -> None:
    (tmp_path / "hstlc.toml").write_text('home_dir = "/data"\n')
    result = CliRunner().invoke(app, ["demo", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {tmp_path / 'hstlc.toml'}: exists but this is not a demo folder; choose another"
    )
