"""The architecture of CONVENTIONS.md, enforced by reading every module's imports.

- science/ is pure: no files, database, FITS I/O, network, console or logging.
- all SQLAlchemy lives in catalog/.
- cli/ only parses, calls the library and renders: no SQL, FITS or numpy there.
- nothing imports cli/ (except ``python -m hstlc``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "hstlc"

SCIENCE_FORBIDDEN = (
    "os", "pathlib", "io", "shutil", "glob", "tempfile", "logging", "sqlalchemy", "rich", "typer", "requests",
    "astropy.io", "matplotlib", "hstlc.catalog", "hstlc.readers", "hstlc.products", "hstlc.cli",
    "hstlc.ingestion", "hstlc.config", "hstlc.report", "hstlc.resolver",
)
CLI_FORBIDDEN = ("sqlalchemy", "astropy", "numpy", "scipy")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(sub: str = "") -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def _hits(imports: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports for f in forbidden if i == f or i.startswith(f + "."))


@pytest.mark.parametrize("path", _modules("science"), ids=lambda p: p.name)
def test_science_is_pure(path: Path) -> None:
    assert _hits(_imports(path), SCIENCE_FORBIDDEN) == []
    source = path.read_text(encoding="utf-8")
    for call in ("open(", "print("):
        assert call not in source.replace("# ", "#"), f"{path.name} calls {call}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sqlalchemy_only_in_catalog(path: Path) -> None:
    if path.parent.name == "catalog":
        return
    assert _hits(_imports(path), ("sqlalchemy",)) == []


@pytest.mark.parametrize("path", _modules("cli"), ids=lambda p: p.name)
def test_cli_is_thin(path: Path) -> None:
    assert _hits(_imports(path), CLI_FORBIDDEN) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_the_cli(path: Path) -> None:
    if path.parent.name == "cli" or path.name == "__main__.py":
        return
    assert _hits(_imports(path), ("hstlc.cli",)) == []


def test_no_utils_modules() -> None:
    for path in _modules():
        assert path.stem not in {"utils", "helpers", "misc"}, path


def test_public_api_is_explicit() -> None:
    import hstlc

    assert hstlc.__all__, "hstlc.__all__ lists the public API"
    for name in hstlc.__all__:
        assert hasattr(hstlc, name), name


#: The rooms of src/hstlc/ (a top-level module or package), lowest first: a room imports only rooms of
#: lower layers (README "Architecture" is this table in words).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "domain", "targets"}),
    frozenset({"science", "config", "timeouts", "safe_paths", "filing", "display", "workers"}),
    frozenset({"readers", "products", "synthetic", "catalog", "cluster"}),
    frozenset({"extraction", "file_checks", "stis_corrtag", "resolver", "product_stats", "export"}),
    frozenset({"ingestion", "report", "download"}),
    frozenset({"demo", "update", "reset"}),
    frozenset({"cli"}),
    frozenset({"__init__", "__main__"}),
)
LAYER = {room: n for n, rooms in enumerate(LAYERS) for room in rooms}


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_room_has_a_layer() -> None:
    assert sorted({_room(p) for p in _modules()} - set(LAYER)) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_rooms_import_only_lower_layers(path: Path) -> None:
    room = _room(path)
    targets = {i.split(".")[1] for i in _imports(path) if i.startswith("hstlc.")}
    upward = sorted(t for t in targets - {room} if t in LAYER and LAYER[t] >= LAYER[room])
    assert upward == [], f"{room} (layer {LAYER[room]}) imports {upward}"
