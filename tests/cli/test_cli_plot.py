"""``hstlc plot`` through Typer's CliRunner on every catalog backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.cli import app
from hstlc.config import load_settings
from support.report import PNG_MAGIC, populate

runner = CliRunner()


def _settings(catalog_url: str, home: Path):
    return load_settings(overrides={"home_dir": home, "db_connection_string": catalog_url}).settings


@pytest.mark.slow
def test_plot_then_incremental_then_all(catalog: Catalog, catalog_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    settings = _settings(catalog_url, home)
    products = populate(catalog, settings, limit=2)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    base = ["--home-dir", str(home), "--db", catalog_url, "plot"]

    first = runner.invoke(app, base)
    assert first.exit_code == 0, first.output
    index = home / "plots" / "index.html"
    assert f"Report: {index}" in first.output
    assert f"{len(products)} product(s): 1 interesting, 2 boring, 0 null; 2 rejected file(s)." in first.output
    assert f"Figures: {2 * len(products)} written, 0 product(s) up to date, 0 failed" in first.output
    assert f"{len(products)} product page(s), 2 target page(s)" in " ".join(first.output.split())
    pngs = sorted((home / "plots" / "figures").glob("*.png"))
    assert len(pngs) == 2 * len(products) and all(p.read_bytes()[:8] == PNG_MAGIC for p in pngs)
    assert opened == []

    second = runner.invoke(app, [*base, "--open"])
    assert second.exit_code == 0, second.output
    assert f"Figures: 0 written, {len(products)} product(s) up to date, 0 failed" in second.output
    assert "(1 page(s) new or changed)" in " ".join(second.output.split())  # the index only
    assert opened == [index.as_uri()]

    everything = runner.invoke(app, [*base, "--all"])
    assert everything.exit_code == 0, everything.output
    assert f"Figures: {2 * len(products)} written, 0 product(s) up to date" in everything.output


@pytest.mark.slow
def test_plot_reports_failed_figures_with_exit_3(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = _settings(f"sqlite:///{home / 'hstlc.db'}", home)
    catalog = Catalog.from_url(settings.database_url)
    catalog.init_schema()
    try:
        products = populate(catalog, settings, limit=1)
    finally:
        catalog.dispose()
    products[0].path.unlink()
    result = runner.invoke(app, ["--home-dir", str(home), "plot"])
    assert result.exit_code == 3, result.output
    assert "Figures not made" in result.output
    assert f"{products[0].filename}: no such file" in result.output
    assert (home / "plots" / "index.html").is_file()


def test_plot_on_an_uninitialised_catalog(tmp_path: Path) -> None:
    from hstlc.catalog import Base

    home = tmp_path / "home"
    result = runner.invoke(app, ["--home-dir", str(home), "plot"])
    assert result.exit_code == 1
    tables = ", ".join(sorted(Base.metadata.tables))
    # rich wraps long lines at the console width: compare the text with its line breaks undone
    assert " ".join(result.output.split()) == (
        f"Error: sqlite:///{home / 'hstlc.db'}: catalog is missing table(s) {tables}; run 'hstlc db init'"
    )
    assert not (home / "plots" / "index.html").exists()


def test_plot_help() -> None:
    result = runner.invoke(app, ["plot", "--help"])
    assert result.exit_code == 0
    for option in ("--all", "--open", "--cores"):
        assert option in result.output
