"""Settings: defaults, derived paths, precedence (defaults < TOML < env < flags), clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hstlc.config import DIRECTORY_DEFAULTS, SETTING_NAMES, find_config_file, load_settings
from hstlc.errors import ConfigError


def test_defaults_derive_everything_from_home_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_settings()
    s = loaded.settings
    assert s.home_dir == tmp_path / "hstlc-data"
    for name, folder in DIRECTORY_DEFAULTS.items():
        assert getattr(s, name) == tmp_path / "hstlc-data" / folder
        assert loaded.sources[name] == "derived from home_dir"
    assert s.db_connection_string == f"sqlite:///{tmp_path / 'hstlc-data' / 'hstlc.db'}"
    assert s.step == 2.0 and s.min_exptime == 1.0 and s.num_cores == 1
    assert s.bad_proposals == [] and s.file_mode == 0o770 and s.file_group is None
    assert s.lref_dir is None and s.oref_dir is None
    assert loaded.sources["step"] == "default"
    assert loaded.config_file is None


def test_home_dir_alone_moves_everything(tmp_path: Path) -> None:
    s = load_settings(overrides={"home_dir": tmp_path / "h"}).settings
    assert s.outputs_dir == tmp_path / "h" / "outputs"
    assert s.database_url.endswith(str(tmp_path / "h" / "hstlc.db"))
    assert s.alias_file == tmp_path / "h" / "aliases.csv"


def test_reference_dirs_default_from_lref_oref(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("lref", str(tmp_path / "lref"))
    monkeypatch.setenv("oref", str(tmp_path / "oref"))
    loaded = load_settings(overrides={"home_dir": tmp_path})
    assert loaded.settings.lref_dir == tmp_path / "lref"
    assert loaded.settings.oref_dir == tmp_path / "oref"
    assert loaded.sources["lref_dir"] == "env $lref"
    monkeypatch.setenv("HSTLC_LREF_DIR", str(tmp_path / "mine"))
    assert load_settings(overrides={"home_dir": tmp_path}).settings.lref_dir == tmp_path / "mine"


def _write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_default_file_env_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _write_toml(
        tmp_path / "site.toml", 'home_dir = "data"\nstep = 5.0\nnum_cores = 3\nmin_exptime = 7\n'
    )
    monkeypatch.setenv("HSTLC_STEP", "10")
    monkeypatch.setenv("HSTLC_NUM_CORES", "4")
    loaded = load_settings(cfg, overrides={"num_cores": 6, "min_exptime": None})
    s = loaded.settings
    assert s.home_dir == tmp_path / "data"  # relative to the file's folder
    assert s.min_exptime == 7  # file (flag given as None = not given)
    assert s.step == 10  # env beats file
    assert s.num_cores == 6  # flag beats env
    assert loaded.sources["min_exptime"] == str(cfg)
    assert loaded.sources["step"] == "env HSTLC_STEP"
    assert loaded.sources["num_cores"] == "flag"
    assert loaded.sources["file_mode"] == "default"


def test_config_file_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_file() is None
    user = tmp_path / "xdg-config" / "hstlc" / "hstlc.toml"
    user.parent.mkdir(parents=True)
    _write_toml(user, "step = 3\n")
    assert find_config_file() == user
    local = _write_toml(tmp_path / "hstlc.toml", "step = 4\n")
    assert find_config_file() == local
    env_file = _write_toml(tmp_path / "env.toml", "step = 5\n")
    monkeypatch.setenv("HSTLC_CONFIG", str(env_file))
    assert find_config_file() == env_file
    assert load_settings().settings.step == 5
    explicit = _write_toml(tmp_path / "explicit.toml", "step = 6\n")
    assert load_settings(explicit).settings.step == 6


def test_table_form_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _write_toml(tmp_path / "c.toml", '[hstlc]\nbad_proposals = [12345, 13902]\nfile_mode = "0o750"\n')
    s = load_settings(cfg).settings
    assert s.bad_proposals == [12345, 13902]
    assert s.file_mode == 0o750
    monkeypatch.setenv("HSTLC_BAD_PROPOSALS", "1, 2,3")
    assert load_settings(cfg).settings.bad_proposals == [1, 2, 3]
    monkeypatch.setenv("HSTLC_BAD_PROPOSALS", "[4,5]")
    assert load_settings(cfg).settings.bad_proposals == [4, 5]


def test_env_is_case_insensitive_and_flags_override_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("hstlc_home_dir", str(tmp_path / "lower"))
    s = load_settings().settings
    assert s.home_dir == tmp_path / "lower"
    s = load_settings(overrides={"db_connection_string": "postgresql+psycopg://u:secret@h/db"}).settings
    assert s.database_url == "postgresql+psycopg://u:secret@h/db"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HSTLC_STEP": "-2"}, "step: Input should be greater than 0 (from env HSTLC_STEP)"),
        ({"HSTLC_NUM_CORES": "many"}, "num_cores: Input should be a valid integer"),
        ({"HSTLC_FILE_MODE": "rwx"}, "file_mode: not an octal file mode"),
        ({"HSTLC_SESAME_URL": "ftp://x"}, "sesame_url: not an http(s) URL"),
    ],
)
def test_invalid_values_give_one_line_each(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(expected)
    assert len(str(info.value).splitlines()) == 1


def test_several_invalid_values_one_line_per_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HSTLC_STEP", "0")
    monkeypatch.setenv("HSTLC_NUM_CORES", "0")
    with pytest.raises(ConfigError) as info:
        load_settings()
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert {line.split(":")[0] for line in lines} == {"step", "num_cores"}


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "missing.toml")
    bad = _write_toml(tmp_path / "bad.toml", "step = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    typo = _write_toml(tmp_path / "typo.toml", "stepp = 3\n")
    with pytest.raises(ConfigError, match=r"typo.toml: unknown setting\(s\) stepp"):
        load_settings(typo)


def test_every_setting_documented_in_example() -> None:
    example = (Path(__file__).parents[1] / "hstlc.toml.example").read_text(encoding="utf-8")
    for name in SETTING_NAMES:
        assert f"# {name} =" in example or f"\n{name} =" in example, name


def test_example_file_is_valid(tmp_path: Path) -> None:
    example = Path(__file__).parents[1] / "hstlc.toml.example"
    uncommented = "\n".join(
        line[2:]
        for line in example.read_text(encoding="utf-8").splitlines()
        if line.startswith("# ") and " = " in line
    )
    cfg = _write_toml(tmp_path / "all.toml", uncommented)
    loaded = load_settings(cfg)
    assert loaded.settings.step == 2.0
