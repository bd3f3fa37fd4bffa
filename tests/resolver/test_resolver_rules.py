"""Normalisation rules, the matching key and the alias table (no network, no catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hstlc.config import Settings
from hstlc.errors import ResolverError
from hstlc.resolver import resolve_target
from hstlc.resolver.aliases import (
    AliasEntry,
    AliasTable,
    append_alias,
    packaged_aliases,
    parse_alias_csv,
    parse_alias_spec,
    read_alias_file,
)
from hstlc.resolver.rules import CONSTELLATIONS, apply_rules, is_hst_name, name_key

# (input, expected, rules that fire)
POSITIVE = [
    # hyphen after a catalog prefix
    ("AZV-148", "AZV148", ("catalog-hyphen",)),
    ("AV-456", "AV456", ("catalog-hyphen",)),
    ("HD-209458", "HD209458", ("catalog-hyphen",)),
    ("NGC-4378", "NGC4378", ("catalog-hyphen",)),
    ("M-31", "M31", ("catalog-hyphen",)),
    ("3C-273", "3C273", ("catalog-hyphen",)),
    ("WD-1145+017", "WD1145+017", ("catalog-hyphen",)),
    ("LP-791-18", "LP791-18", ("catalog-hyphen",)),
    ("PKS-2155-304", "PKS2155-304", ("catalog-hyphen",)),
    ("GJ-1214", "GJ1214", ("catalog-hyphen",)),
    ("2MASS-J09215939+4509126", "2MASSJ09215939+4509126", ("catalog-hyphen",)),
    ("1RXS-J185635.1-375433", "1RXSJ185635.1-375433", ("catalog-hyphen",)),
    ("SDSS-J123456.78+123456.7", "SDSSJ123456.78+123456.7", ("catalog-hyphen",)),
    ("4C-06.41", "4C06.41", ("catalog-hyphen",)),
    ("4C--01.61", "4C01.61", ("catalog-hyphen",)),
    # copy suffixes
    ("CALLISTO-COPY", "CALLISTO", ("copy-suffix",)),
    ("GW-LIB-COPY2", "GW-LIB", ("copy-suffix",)),
    ("WD1145+017-COPY-3", "WD1145+017", ("copy-suffix",)),
    # numbered solar-system pointings
    ("SATURN1", "SATURN", ("index-suffix",)),
    ("SATURN-2", "SATURN", ("index-suffix",)),
    ("EUROPA12", "EUROPA", ("index-suffix",)),
    ("JUPITER-NORTH-7", "JUPITER-NORTH", ("index-suffix",)),
    ("IO-TORUS-3", "IO-TORUS", ("index-suffix",)),
    # HST form and Greek letters
    ("ngc 4378", "NGC4378", ("hst-form",)),
    ("hd 209458", "HD209458", ("hst-form",)),
    ("gw lib", "GW-LIB", ("hst-form",)),
    ("alf cen", "ALPHA-CEN", ("hst-form", "greek")),
    ("ALF-CEN-A", "ALPHA-CEN-A", ("greek",)),
    ("BET-PIC", "BETA-PIC", ("greek",)),
    ("DEL-SCT", "DELTA-SCT", ("greek",)),
    # several rules in turn
    ("HD-209458-COPY", "HD209458", ("catalog-hyphen", "copy-suffix")),
    ("SATURN1-COPY", "SATURN", ("copy-suffix", "index-suffix")),
    ("saturn 1", "SATURN", ("hst-form", "index-suffix")),
]

# Names that must come back exactly as given.
NEGATIVE = [
    "HD209458", "NGC4378", "M31", "3C273", "WD1145+017", "AZV148", "4C06.41", "GD71", "SN1987A",
    "PG1159-035", "LP791-18", "2MASSJ09215939+4509126",
    # hyphens that belong to the name
    "WASP-12", "K2-18", "KELT-9", "HAT-P-11", "TOI-700", "ALPHA-CEN", "ETA-CAR",
    # a hyphen that is a declination sign
    "SK-69D202", "BD-11D162", "CD-42D14462", "CPD-59D2628", "MCG-6-30-15", "BD+28D4211",
    # look alike but are not the patterns
    "M-DWARF", "HD-COPYCAT", "COPY", "IOTA-ORI", "CERES-LIKE", "TITANIA", "JUPITER", "MARS-NORTH",
    "ALF-XYZ", "DEL-12", "SATURNALIA2", "NGC-X", "2MASS-0921",
]


@pytest.mark.parametrize(("name", "expected", "fired"), POSITIVE, ids=[p[0] for p in POSITIVE])
def test_rule_rewrites(name: str, expected: str, fired: tuple[str, ...]) -> None:
    assert apply_rules(name) == (expected, fired)
    assert apply_rules(expected) == (expected, ())  # resolving a resolved name changes nothing
    assert is_hst_name(expected)


@pytest.mark.parametrize("name", NEGATIVE)
def test_rules_leave_these_alone(name: str) -> None:
    assert apply_rules(name) == (name, ())


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("NGC  224", "NGC224"),
        ("M   31", "M31"),
        (" hd\t209458 ", "HD209458"),
        ("NAME Andromeda Galaxy", "ANDROMEDAGALAXY"),
        ("V* GW Lib", "GWLIB"),
        ("V*  GW  Lib", "GWLIB"),
        ("* alf Cen", "ALFCEN"),
        ("VV 123", "VV123"),
        ("NAMEX 1", "NAMEX1"),
        ("2MASS J09215939+4509126", "2MASSJ09215939+4509126"),
    ],
)
def test_name_key(alias: str, key: str) -> None:
    assert name_key(alias) == key


def test_constellation_list_is_complete() -> None:
    assert len(CONSTELLATIONS) == 88


# --- the alias table --------------------------------------------------------------------------------


def test_packaged_table_is_valid_and_used(settings: Settings) -> None:
    entries = packaged_aliases()
    assert entries and all(is_hst_name(e.targname) for e in entries)
    r = resolve_target("P330-E", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method, r.note) == ("P330E", "table", "packaged alias table")


def test_table_lookup_ignores_case_and_blanks() -> None:
    table = AliasTable([AliasEntry("NGC 224", "M31", "x")])
    assert table.lookup("ngc224") == AliasEntry("NGC 224", "M31", "x")
    assert table.lookup("NGC-224") is None


def test_user_file_wins_over_packaged_and_over_rules(settings: Settings) -> None:
    assert settings.alias_file is not None
    settings.alias_file.parent.mkdir(parents=True)
    settings.alias_file.write_text("alias,targname\nP330-E,GSPC-P330E\nSATURN1,SATURN1\n", encoding="utf-8")
    r = resolve_target("P330-E", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method) == ("GSPC-P330E", "table")
    assert r.note == f"alias file {settings.alias_file}"
    r = resolve_target("SATURN1", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method) == ("SATURN1", "table")  # the table protects it from index-suffix


def test_table_is_consulted_again_after_the_rules(settings: Settings) -> None:
    assert settings.alias_file is not None
    append_alias(settings.alias_file, "GW-LIB", "GWLIB")
    r = resolve_target("GW-LIB-COPY2", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method) == ("GWLIB", "table")
    assert r.note == f"rule copy-suffix gave GW-LIB; alias file {settings.alias_file} maps it"


def test_rule_and_unchanged_offline(settings: Settings) -> None:
    r = resolve_target("AZV-148", catalog=None, settings=settings, offline=True)
    assert (r.input, r.resolved, r.method, r.aliases) == ("AZV-148", "AZV148", "rule", ())
    assert r.note == "rule catalog-hyphen; offline: Sesame not consulted"
    r = resolve_target("HD209458", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method, r.changed) == ("HD209458", "unchanged", False)
    assert r.to_dict() == {"input": "HD209458", "resolved": "HD209458", "method": "unchanged",
                           "aliases": [], "note": "offline: Sesame not consulted"}


def test_empty_name_is_unchanged(settings: Settings) -> None:
    r = resolve_target("  ", catalog=None, settings=settings, offline=True)
    assert (r.resolved, r.method, r.note) == ("  ", "unchanged", "empty name")


def test_malformed_user_file_names_file_and_line(settings: Settings) -> None:
    assert settings.alias_file is not None
    settings.alias_file.parent.mkdir(parents=True)
    settings.alias_file.write_text("alias,targname\n# a comment\nA,B,C\n", encoding="utf-8")
    with pytest.raises(ResolverError) as info:
        resolve_target("M31", catalog=None, settings=settings, offline=True)
    assert str(info.value) == f"{settings.alias_file}: line 3: expected 2 columns (alias,targname), found 3"


def test_bad_target_name_in_file(tmp_path: Path) -> None:
    with pytest.raises(ResolverError, match=r"f.csv: line 1: target name 'M 31' is not an HST name"):
        parse_alias_csv("NGC224,M 31\n", where="f.csv", source="f.csv")


def test_csv_comments_blank_lines_and_headerless(tmp_path: Path) -> None:
    text = "# comment\n\nngc 224 , m31\n\"X,Y\",XY\n"
    entries = parse_alias_csv(text, where="f.csv", source="f.csv")
    assert entries == [AliasEntry("NGC 224", "M31", "f.csv"), AliasEntry("X,Y", "XY", "f.csv")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("NGC224", "--add 'NGC224': expected exactly one '=' as in ALIAS=TARGNAME (e.g. NGC-224=M31)"),
        ("A=B=C", "--add 'A=B=C': expected exactly one '=' as in ALIAS=TARGNAME (e.g. NGC-224=M31)"),
        ("=M31", "--add '=M31': both the alias and the target name are needed (ALIAS=TARGNAME)"),
        ("NGC224=", "--add 'NGC224=': both the alias and the target name are needed (ALIAS=TARGNAME)"),
        ("X=M 31", "--add 'X=M 31': target name 'M 31' is not an HST name (letters, digits, '-', '.', '+'; "
                   "no blanks)"),
    ],
)
def test_parse_alias_spec_refuses_malformed(spec: str, message: str) -> None:
    with pytest.raises(ResolverError) as info:
        parse_alias_spec(spec)
    assert str(info.value) == message


def test_parse_alias_spec() -> None:
    assert parse_alias_spec(" ngc-224 = m31 ") == ("NGC-224", "M31")


def test_append_alias_creates_header_is_idempotent_and_later_lines_win(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "aliases.csv"
    assert append_alias(path, "NGC-224", "M31") is True
    assert append_alias(path, "ngc-224", "m31") is False
    assert path.read_text(encoding="utf-8") == "alias,targname\nNGC-224,M31\n"
    path.write_text(path.read_text(encoding="utf-8") + "X,Y", encoding="utf-8")  # no final newline
    assert append_alias(path, "NGC-224", "NGC224") is True
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ["alias,targname", "NGC-224,M31", "X,Y", "NGC-224,NGC224"]
    assert AliasTable(read_alias_file(path)).lookup("NGC-224") == AliasEntry("NGC-224", "NGC224", str(path))
