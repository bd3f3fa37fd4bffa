"""Shared fixtures: pinned console width, isolated settings, and the catalog on every backend.

Catalog tests take the ``catalog_url`` fixture: it runs them on SQLite and on each URL listed in
``HSTLC_TEST_DATABASE_URLS`` (comma-separated). Each server URL gets its own throw-away database for
the test session (so concurrent test runs cannot collide), and each test a clean schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from support.mast import MastServer

# Rich reads these when a console is created: pin the width so table layout is stable in tests.
os.environ["COLUMNS"] = "200"
os.environ["LINES"] = "50"
os.environ.pop("HSTLC_CONFIG", None)

SERVER_URLS = [u.strip() for u in os.environ.get("HSTLC_TEST_DATABASE_URLS", "").split(",") if u.strip()]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's own hstlc settings, config file or reference directories."""
    for key in list(os.environ):
        if key.upper().startswith("HSTLC_") and key != "HSTLC_TEST_DATABASE_URLS":
            monkeypatch.delenv(key, raising=False)
    for key in ("lref", "oref"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def _backend_id(url: str) -> str:
    return make_url(url).get_backend_name()


@pytest.fixture(scope="session")
def _server_databases() -> Iterator[dict[str, str]]:
    """Create one scratch database per server URL for this test session; drop them at the end."""
    created: dict[str, str] = {}
    admins = []
    for url in SERVER_URLS:
        base = make_url(url)
        name = f"hstlc_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
        except Exception as exc:  # a listed server that is down is a failure, not a skip
            admin.dispose()
            raise RuntimeError(f"cannot create a scratch database on {base!r}: {exc}") from exc
        admins.append((admin, name))
        created[url] = base.set(database=name).render_as_string(hide_password=False)
    yield created
    for admin, name in admins:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def _catalog_params() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    for url in SERVER_URLS:
        params.append(pytest.param(url, id=_backend_id(url), marks=pytest.mark.database))
    if not SERVER_URLS:
        params.append(
            pytest.param(
                None,
                id="servers",
                marks=pytest.mark.skip(
                    reason="HSTLC_TEST_DATABASE_URLS is not set: PostgreSQL/MariaDB catalog tests skipped "
                    "(.ci/run sets it)"
                ),
            )
        )
    return params


@pytest.fixture(params=_catalog_params())
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty hstlc schema: SQLite in tmp_path, then each configured server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    url = request.getfixturevalue("_server_databases")[request.param]
    from hstlc.catalog.schema import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)  # the next test's setup (or the session's DROP DATABASE) cleans up
    engine.dispose()
    yield url


@pytest.fixture
def catalog(catalog_url: str):
    """An initialised :class:`hstlc.catalog.Catalog` on each backend."""
    from hstlc.catalog import Catalog

    cat = Catalog.from_url(catalog_url)
    cat.init_schema()
    yield cat
    cat.dispose()


@pytest.fixture
def settings(tmp_path: Path):
    """Settings rooted in tmp_path (SQLite catalog there)."""
    from hstlc.config import load_settings

    return load_settings(overrides={"home_dir": tmp_path / "home"}).settings


@pytest.fixture
def sesame(monkeypatch: pytest.MonkeyPatch):
    """A Sesame-like server on 127.0.0.1 (port chosen by the OS), stopped after the test."""
    from support.sesame import serve_sesame

    yield from serve_sesame(monkeypatch)


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A MAST archive of generated datasets (tests/support/mast.py) and the folder of its files and
    references (``lref``, ``oref``), made once per module."""
    from support.mast import make_archive

    root = tmp_path_factory.mktemp("mast")
    return root, make_archive(root / "files", lref=root / "lref", oref=root / "oref")


@pytest.fixture
def mast(archive_root: tuple[Path, list]) -> Iterator[MastServer]:
    """The MAST Search API of ``archive_root`` served on 127.0.0.1 for one test."""
    from support.mast import serve_mast

    yield from serve_mast(archive_root[1])
