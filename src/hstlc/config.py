"""The one settings object every hstlc command shares.

Precedence, lowest first: built-in defaults < TOML file < ``HSTLC_<KEY>`` environment variables <
command-line flags. The TOML file is ``--config PATH``, else ``$HSTLC_CONFIG``, else ``./hstlc.toml``,
else ``<user config dir>/hstlc/hstlc.toml``. :func:`load_settings` is the only place that decides this.

Keys keep the original pipeline's names (``db_connection_string``, ``home_dir``, ``outputs_dir`` …), so
only ``home_dir`` needs setting: every directory defaults to a folder under it and the catalog to
``sqlite:///<home_dir>/hstlc.db``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import tomllib
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hstlc.errors import ConfigError

#: The default of a folder setting: always replaced by ``<home_dir>/<folder>`` (``Settings._derive_paths``),
#: so after validation every folder setting is a ``Path``, never None.
_DERIVED = cast(Path, None)

ENV_PREFIX = "HSTLC_"
CONFIG_ENV = "HSTLC_CONFIG"
CONFIG_FILENAME = "hstlc.toml"

#: Directory settings and the folder under ``home_dir`` each defaults to.
DIRECTORY_DEFAULTS: dict[str, str] = {
    "ingest_dir": "ingest",
    "filesystem_dir": "filesystem",
    "outputs_dir": "outputs",
    "composite_dir": "composites",
    "log_dir": "logs",
    "download_dir": "downloads",
    "plot_dir": "plots",
    "bad_data_dir": "bad_data",
}

DEFAULT_SESAME_URL = "https://cds.unistra.fr/cgi-bin/nph-sesame/-oxpI/SNV"
DEFAULT_SESAME_MIRRORS = ("https://vizier.cfa.harvard.edu/viz-bin/nph-sesame/-oxpI/SNV",)


def _split_list(value: Any) -> Any:
    """Accept ``"a, b"`` or ``"[1, 2]"`` from the environment as well as real lists."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return [item.strip().strip("'\"") for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Effective hstlc settings. Build with :func:`load_settings`, never at import time."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
    )

    # --- where things live -------------------------------------------------------------------------
    home_dir: Path = Field(
        Path("hstlc-data"), description="Root folder; every other folder defaults under it"
    )
    db_connection_string: str | None = Field(
        None, description="SQLAlchemy URL of the catalog (default sqlite:///<home_dir>/hstlc.db)"
    )
    ingest_dir: Path = Field(_DERIVED, description="Where new event files are looked for")
    filesystem_dir: Path = Field(_DERIVED, description="Where ingested files are filed, by target")
    outputs_dir: Path = Field(_DERIVED, description="Individual lightcurve products, by target")
    composite_dir: Path = Field(_DERIVED, description="Composite (HLSP) lightcurve products")
    log_dir: Path = Field(_DERIVED, description="One log file per command run")
    download_dir: Path = Field(_DERIVED, description="Downloads from MAST")
    plot_dir: Path = Field(_DERIVED, description="Figures and the HTML report")
    bad_data_dir: Path = Field(_DERIVED, description="Quarantine for datasets that fail the checks")
    lref_dir: Path | None = Field(None, description="COS reference files (default: $lref)")
    oref_dir: Path | None = Field(None, description="STIS reference files (default: $oref)")

    # --- processing --------------------------------------------------------------------------------
    num_cores: int = Field(1, ge=1, le=512, description="Worker processes for ingest, stats and plot")
    scheduler_address: str | None = Field(
        None,
        description="Dask scheduler for ingest, stats and plot: tcp://host:8786, or local:N for N worker "
        "processes here (needs 'hstlc[dask]'; default: num_cores local processes)",
    )
    step: float = Field(2.0, gt=0, le=86400, description="Lightcurve bin width in seconds")
    read_timeout: float = Field(
        60.0, gt=0, le=86400,
        description="Seconds reading one event file may take (check, ingest) before it is called unreadable",
    )
    min_exptime: float = Field(1.0, ge=0, description="Shorter exposures are rejected ('Short Exposure')")
    bad_proposals: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="PROPOSIDs rejected at ingest ('Bad Proposal')"
    )
    keep_airglow: bool = Field(False, description="Keep the Lyman-alpha and O I airglow windows")
    max_sun_alt: float | None = Field(
        None, ge=-90, le=90, description="Drop time when TIMELINE SUN_ALT exceeds this (degrees)"
    )
    file_group: str | None = Field(None, description="Group given to created files (default: yours)")
    file_mode: int = Field(0o770, ge=0, le=0o7777, description="Mode of created directories")

    # --- target-name resolution ----------------------------------------------------------------------
    sesame_url: str = Field(DEFAULT_SESAME_URL, description="CDS Sesame base URL; the name follows '?'")
    sesame_mirrors: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SESAME_MIRRORS), description="Sesame mirrors tried in turn"
    )
    sesame_timeout: float = Field(10.0, gt=0, le=600, description="Seconds per Sesame request")
    sesame_retries: int = Field(
        2, ge=0, le=10,
        description="Retries per Sesame URL after HTTP 5xx/429 (with backoff; none if it is unreachable)",
    )
    sesame_backoff: float = Field(
        1.0, ge=0, le=60, description="Seconds before the first Sesame retry (doubles)"
    )
    sesame_max_bytes: int = Field(1_000_000, ge=1024, description="Largest Sesame reply accepted")
    resolver_cache_days: float = Field(
        30.0, ge=0, description="Days a cached Sesame reply (also 'nothing found') is reused"
    )
    resolver_retry_hours: float = Field(
        6.0, ge=0, le=8760,
        description="Hours a failed Sesame lookup is not retried (0: retry every run; --refresh asks now)",
    )
    resolver_budget: float = Field(
        60.0, gt=0, le=86400,
        description="Seconds one run may wait for Sesame in all; names not asked by then wait for later runs",
    )
    resolver_offline: bool = Field(False, description="Never contact Sesame")
    alias_file: Path | None = Field(None, description="Your alias table (default <home_dir>/aliases.csv)")

    # --- downloads from MAST ---------------------------------------------------------------------------
    mast_url: str = Field(
        "https://mast.stsci.edu", description="MAST base URL (its Search API: <mast_url>/search/hst/api/v0.1)"
    )
    download_limit: int = Field(
        50, ge=0, le=1_000_000,
        description="New datasets one 'hstlc download' fetches at most (0: all; the original fetched 50)",
    )
    download_transfers: int = Field(4, ge=1, le=32, description="Files downloaded at once")
    download_timeout: float = Field(
        60.0, gt=0, le=3600, description="Seconds a MAST request may wait for a connection or the next bytes"
    )
    download_retries: int = Field(
        3, ge=0, le=20, description="Retries of a failed MAST request or transfer (resumed where it stopped)"
    )
    download_backoff: float = Field(
        2.0, ge=0, le=300, description="Seconds before the first download retry (doubles)"
    )

    # --- statistics --------------------------------------------------------------------------------
    flag_rule: Literal["fap", "original"] = Field(
        "fap",
        description="How the periodogram and variable flags are decided: 'fap' (false-alarm "
        "probability and a chi-squared test) or 'original' (the original catalog's power and "
        "poisson_factor rules)",
    )
    periodogram_fap_threshold: float = Field(
        1e-3, gt=0, lt=1,
        description="False-alarm probability (whole search) below which a period is significant",
    )
    variable_p_threshold: float = Field(
        1e-3, gt=0, lt=1, description="Chi-squared p-value below which a lightcurve is variable"
    )
    periodogram_power_threshold: float = Field(
        0.30, gt=0, le=1,
        description="flag_rule='original': least power of a significant peak that sets the periodogram flag",
    )
    poisson_factor_threshold: float = Field(
        1.5, gt=0, description="flag_rule='original': poisson_factor above which a lightcurve is variable"
    )

    @field_validator("bad_proposals", "sesame_mirrors", mode="before")
    @classmethod
    def _lists_from_strings(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("file_mode", mode="before")
    @classmethod
    def _octal_mode(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower().removeprefix("0o")
            try:
                return int(text, 8)
            except ValueError:
                raise ValueError(f"not an octal file mode: {value!r} (e.g. 770 or 0o770)") from None
        return value

    @field_validator("sesame_url", "sesame_mirrors")
    @classmethod
    def _http_urls(cls, value: Any) -> Any:
        for url in [value] if isinstance(value, str) else value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return value

    @field_validator(*DIRECTORY_DEFAULTS, mode="plain")
    @classmethod
    def _folder(cls, value: Any) -> Path | None:
        """A folder setting: a path, or None until :meth:`_derive_paths` puts it under ``home_dir``."""
        if value is None or isinstance(value, Path):
            return value
        if isinstance(value, str | os.PathLike) and str(value).strip():
            return Path(value)
        raise ValueError(f"not a folder path: {value!r}")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        home = self.home_dir.expanduser().absolute()
        object.__setattr__(self, "home_dir", home)
        for name, folder in DIRECTORY_DEFAULTS.items():
            value = getattr(self, name)
            object.__setattr__(
                self, name, (home / folder) if value is None else value.expanduser().absolute()
            )
        for name, env in (("lref_dir", "lref"), ("oref_dir", "oref")):
            value = getattr(self, name)
            if value is None and os.environ.get(env):
                value = Path(os.environ[env])
            object.__setattr__(self, name, None if value is None else value.expanduser().absolute())
        if self.alias_file is None:
            object.__setattr__(self, "alias_file", home / "aliases.csv")
        else:
            object.__setattr__(self, "alias_file", self.alias_file.expanduser().absolute())
        if not self.db_connection_string:
            object.__setattr__(self, "db_connection_string", f"sqlite:///{home / 'hstlc.db'}")
        return self

    @property
    def database_url(self) -> str:
        """The catalog URL (always set after validation)."""
        assert self.db_connection_string is not None
        return self.db_connection_string

    def verdict_settings(self) -> dict[str, Any]:
        """The settings the variability verdict depends on, by the names of ``StatsOptions`` and
        :func:`hstlc.science.verdict.settings_key`."""
        return {
            "flag_rule": self.flag_rule,
            "fap_threshold": self.periodogram_fap_threshold,
            "variable_p": self.variable_p_threshold,
            "power_threshold": self.periodogram_power_threshold,
            "poisson_factor_threshold": self.poisson_factor_threshold,
        }

    def directories(self) -> dict[str, Path]:
        """The configured working directories by setting name."""
        return {name: getattr(self, name) for name in DIRECTORY_DEFAULTS}


SETTING_NAMES: tuple[str, ...] = tuple(Settings.model_fields)
_PATH_SETTINGS = frozenset(name for name, f in Settings.model_fields.items() if "Path" in str(f.annotation))


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus where each value came from (``default``, ``derived``, a file, an env var, ``flag``)."""

    settings: Settings
    sources: Mapping[str, str]
    config_file: Path | None


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hstlc"


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The TOML file to read: ``explicit``, ``$HSTLC_CONFIG``, ``./hstlc.toml``, the user config dir."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found (given with --config)")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found (named by ${CONFIG_ENV})")
        return path
    for candidate in (Path.cwd() / CONFIG_FILENAME, user_config_dir() / CONFIG_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML settings file: top-level keys, or the same keys inside a ``[hstlc]`` table.

    Relative paths in the file are taken relative to the file's own folder.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if isinstance(data.get("hstlc"), dict):
        data = {**{k: v for k, v in data.items() if k != "hstlc"}, **data["hstlc"]}
    unknown = sorted(set(data) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    for key in _PATH_SETTINGS & set(data):
        if isinstance(data[key], str) and data[key] and not Path(data[key]).expanduser().is_absolute():
            data[key] = str(path.parent.absolute() / data[key])
    return data


def _env_values() -> dict[str, str]:
    lowered = {key.lower(): value for key, value in os.environ.items()}
    return {
        name: lowered[(ENV_PREFIX + name).lower()]
        for name in SETTING_NAMES
        if (ENV_PREFIX + name).lower() in lowered
    }


def format_validation_error(exc: ValidationError, origin: Mapping[str, str] | None = None) -> str:
    """One ``field: message`` line per problem (with the value's origin where known)."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        where = f" (from {origin[field]})" if origin and field in origin else ""
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {message}{where}")
    return "\n".join(lines)


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Build the effective settings: defaults < TOML file < ``HSTLC_*`` env < ``overrides`` (flags).

    ``overrides`` entries whose value is ``None`` are ignored (an option the user did not give).
    Raises :class:`ConfigError` with one line per invalid value.
    """
    path = find_config_file(config_file)
    file_values = read_config_file(path) if path else {}
    env_values = _env_values()
    flag_values = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(flag_values) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")

    sources: dict[str, str] = {}
    for name in SETTING_NAMES:
        if name in flag_values:
            sources[name] = "flag"
        elif name in env_values:
            sources[name] = f"env {ENV_PREFIX}{name.upper()}"
        elif name in file_values:
            sources[name] = str(path)
        elif name in DIRECTORY_DEFAULTS or name in ("db_connection_string", "alias_file"):
            sources[name] = "derived from home_dir"
        elif name in ("lref_dir", "oref_dir") and os.environ.get(name[:4]):
            sources[name] = f"env ${name[:4]}"
        else:
            sources[name] = "default"

    # Environment values go through pydantic-settings' own env source (it ranks below init values);
    # the file's values (minus those the environment overrides) and the flags' go in as init values.
    init_values = {k: v for k, v in file_values.items() if k not in env_values}
    init_values.update(flag_values)
    try:
        settings = Settings(**init_values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, sources)) from None
    return LoadedSettings(settings=settings, sources=sources, config_file=path)


__all__ = [
    "DIRECTORY_DEFAULTS",
    "SETTING_NAMES",
    "LoadedSettings",
    "Settings",
    "find_config_file",
    "load_settings",
    "read_config_file",
    "user_config_dir",
]
