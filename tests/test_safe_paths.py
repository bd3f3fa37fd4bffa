"""Safe path components and joins: header values must never form a path outside the product folder."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hstlc.errors import FilingError
from hstlc.safe_paths import MIN_MAX_LENGTH, is_safe_component, safe_component, safe_join

SAFE_CHARS = re.compile(r"[A-Za-z0-9.+_-]+")
WINDOWS_RESERVED = (
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def assert_one_safe_component(result: str, max_length: int = 64) -> None:
    assert SAFE_CHARS.fullmatch(result), result
    assert 0 < len(result) <= max_length
    assert ".." not in result
    assert not result.startswith((".", "-"))
    assert not result.endswith((".", " "))
    assert result.split(".", 1)[0].upper() not in WINDOWS_RESERVED
    assert PurePosixPath(result).name == result
    assert PureWindowsPath(result).name == result
    assert not PureWindowsPath(result).drive


@pytest.mark.parametrize(
    "value",
    [
        "GD71",
        "gd71",
        "HD-12345",
        "WD0308-565",
        "BD+28.4211",
        "52X0.2",
        "G130M",
        "lb4m01aaq",
        "FUV-MAMA",
        "1291",
    ],
)
def test_hst_legal_values_are_kept_unchanged(value: str) -> None:
    assert safe_component(value) == value
    assert is_safe_component(value)


@pytest.mark.parametrize(
    "value",
    [
        "..",
        ".",
        "../../etc/passwd",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "C:\\Windows",
        "C:",
        "nul\x00byte",
        "line\nbreak",
        "tab\there",
        "\x1b[31mred",
        ".hidden",
        "-rf",
        "-",
        "--",
        "trailing.",
        "CON",
        "con",
        "nul.fits",
        "Com1.txt",
        "LPT9",
        "héllo wörld",
        "日本語",
        "a" * 500,
        " ",
        "a..b",
        "\u202egnp.exe",
    ],
)
def test_hostile_values_become_one_safe_component(value: str) -> None:
    result = safe_component(value)
    assert_one_safe_component(result)
    assert result != value
    assert re.search(r"-[0-9a-f]{12}$", result), "changed values carry a hash suffix"


def test_empty_value_gives_fallback() -> None:
    assert safe_component("") == "UNKNOWN"
    assert safe_component("", fallback="NONE") == "NONE"


def test_value_cleaned_to_nothing_gives_fallback_with_hash() -> None:
    assert safe_component("..").startswith("UNKNOWN-")
    assert safe_component("..") != safe_component("...")


def test_different_hostile_values_do_not_collide() -> None:
    values = ["a/b", "a\\b", "a b", "a:b", "a*b", "a?b", "a_b-0", "a\x00b"]
    results = [safe_component(v) for v in values]
    assert len(set(results)) == len(values)
    assert safe_component("a_b") == "a_b"
    assert safe_component("a/b") != "a_b"


def test_truncation_is_bounded_and_distinct() -> None:
    long_a = "x" * 100 + "a"
    long_b = "x" * 100 + "b"
    ra, rb = safe_component(long_a), safe_component(long_b)
    assert len(ra) == len(rb) == 64
    assert ra != rb
    assert len(safe_component("y" * 1000, max_length=20)) == 20
    assert safe_component("y" * 20, max_length=20) == "y" * 20


def test_non_string_values_are_converted() -> None:
    assert safe_component(1291) == "1291"
    assert safe_component(0) == "0"


def test_reserved_names_inside_longer_names_are_fine() -> None:
    assert safe_component("CONSTELLATION") == "CONSTELLATION"
    assert safe_component("NULLSTAR") == "NULLSTAR"


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_length"):
        safe_component("x", max_length=MIN_MAX_LENGTH - 1)
    with pytest.raises(ValueError, match="fallback"):
        safe_component("", fallback="../x")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=MIN_MAX_LENGTH, max_value=120))
def test_any_string_becomes_one_safe_component(value: str, max_length: int) -> None:
    result = safe_component(value, max_length=max_length)
    assert_one_safe_component(result, max_length)
    assert (result == value) == is_safe_component(value, max_length=max_length)
    assert is_safe_component(result, max_length=max_length)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_distinct_strings_give_distinct_components(a: str, b: str) -> None:
    if a != b and a and b:
        assert safe_component(a) != safe_component(b)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_safe_component_never_escapes_base(tmp_path_factory: pytest.TempPathFactory, value: str) -> None:
    base = tmp_path_factory.getbasetemp() / "products"
    joined = safe_join(base, safe_component(value))
    assert joined.parent == base
    assert joined.resolve().parent == base.resolve()


# ------------------------------------------------------------------------------------------ safe_join


def test_safe_join_inside_base(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "cos", "gd71_curve.fits") == tmp_path / "cos" / "gd71_curve.fits"
    assert safe_join(tmp_path, "cos/fuv", "x.fits") == tmp_path / "cos" / "fuv" / "x.fits"
    assert safe_join(tmp_path, "a/../b") == tmp_path / "b"
    assert safe_join(tmp_path) == tmp_path
    assert safe_join(tmp_path, Path("sub")) == tmp_path / "sub"


@pytest.mark.parametrize(
    "components",
    [
        ("..",),
        ("../x",),
        ("a", "../../x"),
        ("/etc/passwd",),
        ("a/../../x",),
        ("..\\x",),
        ("C:\\x",),
        ("C:x",),
        ("\\\\server\\share\\x",),
        ("a\x00b",),
    ],
)
def test_safe_join_refuses_escapes(tmp_path: Path, components: tuple[str, ...]) -> None:
    with pytest.raises(FilingError):
        safe_join(tmp_path / "base", *components)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_safe_join_refuses_symlink_out_of_base(tmp_path: Path) -> None:
    base = tmp_path / "base"
    outside = tmp_path / "outside"
    base.mkdir()
    outside.mkdir()
    (base / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(FilingError, match="outside the folder"):
        safe_join(base, "link", "x.fits")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_safe_join_result_is_inside_base_or_refused(
    tmp_path_factory: pytest.TempPathFactory, components: list[str]
) -> None:
    base = tmp_path_factory.getbasetemp() / "join-base"
    try:
        joined = safe_join(base, *components)
    except FilingError:
        return
    real_base = base.resolve()
    real = joined.resolve()
    assert real == real_base or real_base in real.parents
