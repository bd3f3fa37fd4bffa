"""One target-name key: the catalog's ``targname_key`` and the resolver's ``name_key`` are one function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hstlc import targets
from hstlc.catalog import Catalog, upsert_metadata
from hstlc.catalog.resolver_tables import match_targname_keys
from hstlc.catalog.store import targname_key
from hstlc.resolver.rules import SIMBAD_PREFIXES, apply_rules, name_key

PACKAGE = Path(__file__).parents[2] / "src" / "hstlc"

HOSTILE = [
    ("NAME AD LEO", "ADLEO"),
    ("name ad leo", "ADLEO"),
    ("  NAME   AD\tLEO  ", "ADLEO"),
    ("NAME\u00a0AD\u2003LEO", "ADLEO"),  # no-break and em spaces are whitespace too
    ("V* AM CVn", "AMCVN"),
    ("v*  am  cvn", "AMCVN"),
    ("* alf Cen", "ALFCEN"),
    ("** STF 1234", "STF1234"),
    ("EM* LkHA 101", "LKHA101"),
    ("2MASS J09215939+4509126", "2MASSJ09215939+4509126"),
    ("AD LEO", "ADLEO"),
    ("AD-LEO", "AD-LEO"),
    ("ad leo", "ADLEO"),
    ("NAMEX 1", "NAMEX1"),  # no blank after NAME: not a prefix
    ("NAME", "NAME"),
    ("NAME ", "NAME"),
    ("V*", "V*"),
    ("* ", "*"),
    ("NAME NAME AD LEO", "NAMEADLEO"),  # one prefix is dropped, not every one
    ("straße", "STRASSE"),
    ("αCen", "ΑCEN"),
    ("中文 目标", "中文目标"),
    ("", ""),
    ("   ", ""),
    ("GD71\nEND", "GD71END"),
    ("../../X", "../../X"),
]


@pytest.mark.parametrize(("name", "key"), HOSTILE, ids=[repr(n) for n, _ in HOSTILE])
def test_catalog_and_resolver_agree(name: str, key: str) -> None:
    assert name_key(name) == key
    assert targname_key(name) == key


def test_one_function_defined_below_both() -> None:
    from hstlc import resolver
    from hstlc.resolver import aliases

    assert name_key is targets.name_key
    assert resolver.name_key is targets.name_key
    assert aliases.name_key is targets.name_key
    assert SIMBAD_PREFIXES is targets.SIMBAD_PREFIXES
    assert targname_key(None) is None
    assert targname_key(1234) == "1234"  # header values may be numbers


@given(st.text())
def test_agree_on_any_text(name: str) -> None:
    assert targname_key(name) == name_key(name)


def test_the_key_module_imports_only_the_stdlib_and_the_catalog_not_the_resolver() -> None:
    def imports(path: Path) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        return names

    assert {n for n in imports(PACKAGE / "targets.py") if n != "__future__"} == set()
    for path in sorted((PACKAGE / "catalog").rglob("*.py")):
        assert not any(n == "hstlc.resolver" or n.startswith("hstlc.resolver.") for n in imports(path)), path


def _old_key(targname: str) -> str:
    """``targname_key`` as it was before it became the resolver's key."""
    return "".join(targname.upper().split())


@pytest.mark.parametrize("name", [n for n, _ in HOSTILE] + ["NAME-AD-LEO", "V*AMCVN", "HD 209458"])
def test_names_ingest_stores_keep_their_old_key(name: str) -> None:
    """Ingest stores resolved names (the rules' HST form: no whitespace, so no SIMBAD prefix, which ends in
    a blank): their ``targname_key`` is what the old function gave, and existing catalogs need no
    migration. Only a name stored with a prefix and a blank (by a direct ``upsert_metadata``) changes."""
    resolved, _ = apply_rules(name)
    assert not any(c.isspace() for c in resolved)
    assert targname_key(resolved) == _old_key(resolved)


def test_a_simbad_spelling_finds_the_catalog_row(catalog: Catalog) -> None:
    with catalog.session() as session:
        upsert_metadata(session, "a_corrtag.fits", path="/a", targname="NAME AD LEO")
        upsert_metadata(session, "b_corrtag.fits", path="/b", targname="V* AM CVn")
    with catalog.session() as session:
        matches = match_targname_keys(session, [name_key("ad leo"), name_key("AM CVN")])
    assert sorted((m.key, m.targname, m.rows) for m in matches) == [
        ("ADLEO", "NAME AD LEO", 1),
        ("AMCVN", "V* AM CVn", 1),
    ]
