"""``hstlc resolve`` through Typer's CliRunner (with a local Sesame server where the network is used)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog, upsert_metadata
from hstlc.catalog.resolver_tables import load_aliases
from hstlc.cli import app
from support.sesame import Reply, SesameServer, found_xml

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def invoke(home: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["--home-dir", str(home), "resolve", *args], env=env)


def sesame_env(server: SesameServer) -> dict[str, str]:
    return {"HSTLC_SESAME_URL": server.url(), "HSTLC_SESAME_MIRRORS": "", "HSTLC_SESAME_RETRIES": "0"}


def init_catalog(home: Path, **targets: int) -> Catalog:
    catalog = Catalog.from_url(f"sqlite:///{home / 'hstlc.db'}")
    catalog.init_schema()
    with catalog.session() as session:
        for targname, count in targets.items():
            for i in range(count):
                upsert_metadata(session, f"{targname.lower()}{i}.fits", path="/x", targname=targname)
    return catalog


def test_offline_table(home: Path) -> None:
    result = invoke(home, "AZV-148", "2MASS-J09215939+4509126", "SATURN1", "HD209458", "--offline")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Target-name resolution" in lines[0]
    for expected in ("AZV148", "2MASSJ09215939+4509126", "SATURN ", "rule", "unchanged", "index-suffix"):
        assert expected in result.output
    assert "catalog not created yet (run 'hstlc db init'); offline (Sesame not asked)" in result.output
    assert not (home / "hstlc.db").exists()  # resolve never creates the catalog


def test_json_output(home: Path) -> None:
    result = invoke(home, "CALLISTO-COPY", "P330-E", "CALLISTO-COPY", "--offline", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["catalog"] is None and payload["offline"] is True and payload["added"] == []
    assert payload["resolutions"] == [
        {"input": "CALLISTO-COPY", "resolved": "CALLISTO", "method": "rule", "aliases": [],
         "note": "rule copy-suffix; offline: Sesame not consulted"},
        {"input": "P330-E", "resolved": "P330E", "method": "table", "aliases": [],
         "note": "packaged alias table"},
    ]


def test_sesame_aliases_and_catalog_match(home: Path, sesame: SesameServer) -> None:
    catalog = init_catalog(home, NGC224=2)
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "NGC  224"))
    try:
        result = invoke(home, "M31", "--json", env=sesame_env(sesame))
        assert result.exit_code == 0, result.output
        [r] = json.loads(result.output)["resolutions"]
        assert (r["resolved"], r["method"], r["aliases"]) == ("NGC224", "sesame+catalog", ["M 31", "NGC 224"])
        again = invoke(home, "M31", env=sesame_env(sesame))
        assert again.exit_code == 0
        assert "sesame+catalog" in again.output and "M 31, NGC 224" in again.output
        assert sesame.count == 1  # the second run used the cache
        refreshed = invoke(home, "M31", "--refresh", "--json", env=sesame_env(sesame))
        assert refreshed.exit_code == 0 and sesame.count == 2
    finally:
        catalog.dispose()


def test_offline_flag_makes_no_request(home: Path, sesame: SesameServer) -> None:
    result = invoke(home, "M31", "--offline", env=sesame_env(sesame))
    assert result.exit_code == 0
    assert sesame.count == 0


def test_sesame_failure_is_a_warning_not_an_error(home: Path, sesame: SesameServer) -> None:
    env = {**sesame_env(sesame), "HSTLC_SESAME_URL": sesame.url("/fail/sesame")}
    result = invoke(home, "M31", "--json", env=env)
    assert result.exit_code == 0
    assert "M31: Sesame failed" in result.output  # the logged warning, on stderr
    payload = json.loads(result.output[result.output.index("{"):])
    assert payload["resolutions"][0]["method"] == "unchanged"


def test_add_writes_the_user_file_and_is_used(home: Path) -> None:
    result = invoke(home, "--add", "NGC-224=M31", "--add", "gw-lib=gwlib")
    assert result.exit_code == 0, result.output
    alias_file = home / "aliases.csv"
    assert alias_file.read_text(encoding="utf-8") == "alias,targname\nNGC-224,M31\nGW-LIB,GWLIB\n"
    assert result.output.startswith(
        f"Alias NGC-224 → M31 added to {alias_file}; catalog: not updated (catalog not created yet"
    )
    assert not (home / "hstlc.db").exists()
    resolved = invoke(home, "NGC-224", "GW-LIB-COPY2", "--offline", "--json")
    payload = json.loads(resolved.output)
    pairs = [(r["resolved"], r["method"]) for r in payload["resolutions"]]
    assert pairs == [("M31", "table"), ("GWLIB", "table")]
    again = invoke(home, "--add", "NGC-224=M31")
    assert again.exit_code == 0 and "already in" in again.output
    assert alias_file.read_text(encoding="utf-8").count("NGC-224") == 1


def test_add_also_updates_an_existing_catalog(home: Path) -> None:
    catalog = init_catalog(home)
    try:
        result = invoke(home, "--add", "NGC-224=M31", "--json")
        assert result.exit_code == 0, result.output
        [added] = json.loads(result.output)["added"]
        assert added == {"alias": "NGC-224", "targname": "M31", "file": str(home / "aliases.csv"),
                         "written_to_file": True, "catalog": "added"}
        with catalog.session() as session:
            assert load_aliases(session) == [("NGC-224", "M31")]
    finally:
        catalog.dispose()


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ("NGC224", "Error: --add 'NGC224': expected exactly one '=' as in ALIAS=TARGNAME (e.g. NGC-224=M31)"),
        ("=M31", "Error: --add '=M31': both the alias and the target name are needed (ALIAS=TARGNAME)"),
        ("X=M 31", "Error: --add 'X=M 31': target name 'M 31' is not an HST name (letters, digits, '-', '.', "
                   "'+'; no blanks)"),
    ],
)
def test_malformed_add_is_refused(home: Path, spec: str, line: str) -> None:
    result = invoke(home, "--add", "GOOD=GOOD", "--add", spec)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == line
    assert not (home / "aliases.csv").exists()  # nothing written when any entry is malformed


def test_malformed_alias_file_is_an_error(home: Path) -> None:
    home.mkdir()
    (home / "aliases.csv").write_text("alias,targname\nONLYONE\n", encoding="utf-8")
    result = invoke(home, "M31", "--offline")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {home / 'aliases.csv'}: line 2: expected 2 columns (alias,targname), found 1"
    )


def test_no_name_is_a_usage_error(home: Path) -> None:
    result = invoke(home)
    assert result.exit_code == 2
    assert "give at least one NAME, or --add ALIAS=TARGNAME" in result.output


def test_help_mentions_the_options() -> None:
    result = runner.invoke(app, ["resolve", "--help"])
    assert result.exit_code == 0
    for option in ("--offline", "--refresh", "--json", "--add"):
        assert option in result.output
