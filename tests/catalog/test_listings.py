"""The targets and products listings on every backend: the rows, each filter, sorting, the limit, name
globs with hostile characters, and empty results (the catalog of ``support.listing_catalog``)."""

from __future__ import annotations

from itertools import product as combinations

import pytest

from hstlc.catalog import Catalog, upsert_metadata, upsert_outputs, upsert_stats
from hstlc.catalog.listings import (
    PRODUCT_SORTS,
    TARGET_SORTS,
    CatalogFilter,
    glob_like,
    parse_since,
    verdict_decisions,
)
from hstlc.science.variability import STATS_VERSION, VERDICTS, verdict_of
from support.listing_catalog import HOSTILE, SETTINGS, VERDICT_OF_STATS, dataset, stock


@pytest.fixture
def stocked(catalog: Catalog) -> Catalog:
    stock(catalog)
    return catalog


def targets(catalog: Catalog, **filters: object) -> list[str]:
    return [r.target for r in catalog.targets(CatalogFilter(**filters), settings_key=SETTINGS)]  # type: ignore[arg-type]


def products(catalog: Catalog, **filters: object) -> list[str]:
    return [r.filename for r in catalog.products(CatalogFilter(**filters), settings_key=SETTINGS)]  # type: ignore[arg-type]


def test_target_rows(stocked: Catalog) -> None:
    rows = {r.target: r for r in stocked.targets(settings_key=SETTINGS)}
    assert len(rows) == 11
    azv = rows["AZV148"]
    assert (azv.verdict, azv.best_period, azv.fap, azv.chi2_reduced) == ("variable", 1200.0, 0.2, 9.5)
    assert azv.decided_by == dataset("lb1a01aaq").composite and azv.verdict_from == "composite"
    assert azv.datasets == 2  # two FUV pairs: four metadata rows
    assert azv.exptime == pytest.approx(3000.0)  # each pair's exposure once
    assert azv.first_mjd == pytest.approx(55000.0)
    assert azv.last_mjd == pytest.approx(55010.0 + 2000.0 / 86400.0)
    assert (azv.instruments, azv.detectors, azv.gratings) == (("COS",), ("FUV",), ("G130M",))
    assert azv.configurations == 1 and azv.proposals == (11111, 11112) and not azv.stale
    assert (azv.ra, azv.dec) == (10.5, -20.25)

    hd = rows["HD93521"]  # two configurations: the periodic STIS composite decides
    assert (hd.verdict, hd.best_period, hd.fap) == ("periodic", 300.0, 1e-9)
    assert hd.decided_by == dataset("o1b002010").composite
    assert (hd.instruments, hd.detectors, hd.gratings) == (
        ("COS", "STIS"),
        ("FUV-MAMA", "NUV"),
        ("E140M", "G185M"),
    )
    assert hd.configurations == 2 and hd.proposals == (22222, 33333) and hd.datasets == 2
    assert hd.exptime == pytest.approx(1300.0)

    wd = rows["WD0308-565"]  # its composite has no stats: the individual product decides
    assert (wd.verdict, wd.verdict_from, wd.best_period) == ("periodic", "individual", 90.0)
    assert wd.decided_by == dataset("lb1c01aaq").individual

    none = rows["NOSTATS"]
    assert (none.verdict, none.verdict_from, none.decided_by, none.best_period, none.stale) == (
        None,
        None,
        None,
        None,
        False,
    )
    assert rows["O'BRIEN%_STAR"].verdict == "constant" and rows["O'BRIEN%_STAR"].stale
    assert rows["OXBRIENAXSTAR"].verdict == "undetermined" and rows["BACK\\SLASH"].verdict == "no counts"


def test_default_order_is_verdict_then_name(stocked: Catalog) -> None:
    order = [t for t in targets(stocked) if t != "ÉTOILE-Ω"]  # its place depends on the collation
    assert order == [
        "HD93521",
        "WD0308-565",
        "AZV148",
        "O'BRIEN%_STAR",
        "OXBRIENAXSTAR",
        "BACK\\SLASH",
        "BACKSLASH",
        "BANG!STAR",
        "BANGSTAR",
        "NOSTATS",
    ]


def test_product_rows(stocked: Catalog) -> None:
    rows = {r.filename: r for r in stocked.products(settings_key=SETTINGS)}
    composites = {
        d.composite for d in (dataset(r) for r in ("lb1a01aaq", "lb1b01aaq", "o1b002010", "lb1c01aaq"))
    }
    assert composites <= set(rows)
    assert len(rows) == 13 + 12  # an individual product per dataset, a composite per configuration
    azv = rows[dataset("lb1a01aaq").composite]
    assert (azv.product_type, azv.target, azv.datasets, azv.proposals) == (
        "composite",
        "AZV148",
        2,
        (11111, 11112),
    )
    assert (azv.instrument, azv.detector, azv.grating, azv.cenwave, azv.aperture) == (
        "COS",
        "FUV",
        "G130M",
        1291,
        "PSA",
    )
    assert azv.exptime == pytest.approx(3000.0) and azv.first_mjd == pytest.approx(55000.0)
    assert azv.path == f"/nonexistent/hstlc/composites/{azv.filename}"
    assert (azv.has_stats, azv.verdict, azv.variable, azv.periodogram, azv.stale) == (
        True,
        "variable",
        True,
        False,
        False,
    )
    assert (azv.total, azv.chi2_reduced, azv.chi2_p, azv.method_version) == (5000.0, 9.5, 1e-5, STATS_VERSION)
    one = rows[dataset("lb1a02aaq").individual]
    assert (one.product_type, one.datasets, one.proposals, one.verdict) == (
        "individual",
        1,
        (11112,),
        "constant",
    )
    assert one.exptime == pytest.approx(2000.0)  # a pair's exposure once
    assert one.path == "/nonexistent/hstlc/outputs/AZV148/lb1a02aaq_curve.fits"
    bare = rows[dataset("lb1d01aaq").individual]
    assert (bare.has_stats, bare.verdict, bare.stale, bare.periodogram, bare.deliver, bare.best_period) == (
        False,
        None,
        False,
        None,
        None,
        None,
    )
    for name, verdict in VERDICT_OF_STATS.items():
        assert rows[name].verdict == verdict, name


def test_the_sql_verdict_is_verdict_of(catalog: Catalog) -> None:
    """Every combination of the stored flags gives the verdict ``verdict_of`` gives (one rule)."""
    cases = list(combinations((5.0, 0.0, None), (True, False), (True, False, None)))
    with catalog.session() as session:
        for index, (total, periodogram, variable) in enumerate(cases):
            name = f"lc{index:02d}q_curve.fits"
            row = upsert_metadata(
                session,
                f"lc{index:02d}q_corrtag.fits",
                path="/d",
                targname=f"T{index}",
                rootname=f"lc{index:02d}q",
            )
            upsert_outputs(session, row.id, individual_path="/o", individual_filename=name)
            upsert_stats(
                session,
                name,
                lightcurve_path="/o",
                total=total,
                periodogram=periodogram,
                variable=variable,
                method_version=STATS_VERSION,
            )
    rows = {r.filename: r for r in catalog.products()}
    for index, (total, periodogram, variable) in enumerate(cases):
        expected = verdict_of(
            has_counts=total is not None and total > 0, periodogram=periodogram, variable=variable
        )
        assert rows[f"lc{index:02d}q_curve.fits"].verdict == expected, (total, periodogram, variable)


def test_verdict_decisions_cover_every_verdict_of() -> None:
    def decide(tree: object, given: dict[str, object]) -> int:
        depth = 0
        while not isinstance(tree, int):
            name = ("has_counts", "periodogram", "variable")[depth]
            tree = dict(tree)[given[name]]  # type: ignore[call-overload]
            depth += 1
        return tree

    for counts, periodic, varies in combinations((True, False), (True, False), (True, False, None)):
        given = {"has_counts": counts, "periodogram": periodic, "variable": varies}
        assert VERDICTS[decide(verdict_decisions(), given)] == verdict_of(**given)  # type: ignore[arg-type]


#: (filters, the targets they select).
TARGET_FILTERS: list[tuple[dict[str, object], list[str]]] = [
    ({"instrument": "stis"}, ["HD93521", "ÉTOILE-Ω"]),
    ({"detector": "fuv-mama"}, ["HD93521"]),
    ({"grating": "g130m"}, ["WD0308-565", "AZV148"]),
    ({"variable": True}, ["HD93521", "WD0308-565", "AZV148"]),
    ({"periodic": True}, ["HD93521", "WD0308-565"]),
    ({"verdict": "undetermined"}, ["OXBRIENAXSTAR"]),
    ({"verdict": "no counts"}, ["BACK\\SLASH"]),
    ({"variable": True, "periodic": True, "verdict": "variable"}, []),
    ({"min_exptime": 1300.0}, ["HD93521", "AZV148"]),
    ({"proposal": 11112}, ["AZV148"]),
    ({"proposal": 11111}, ["WD0308-565", "AZV148"]),
    (
        {"since": 57000.0},
        [
            "HD93521",
            "WD0308-565",
            "O'BRIEN%_STAR",
            "OXBRIENAXSTAR",
            "BACK\\SLASH",
            "BACKSLASH",
            "BANG!STAR",
            "BANGSTAR",
            "NOSTATS",
            "ÉTOILE-Ω",
        ],
    ),
    ({"since": 59105.5}, ["ÉTOILE-Ω"]),
    ({"grating": "G130M", "proposal": 11112, "variable": True}, ["AZV148"]),
    ({"instrument": "ACS"}, []),
]


def test_target_filters(stocked: Catalog) -> None:
    for filters, expected in TARGET_FILTERS:  # one catalog for all (the order: test_default_order_…)
        assert sorted(targets(stocked, **filters)) == sorted(expected), filters


def test_configuration_filters_choose_the_data_a_target_row_sums_up(stocked: Catalog) -> None:
    (nuv,) = stocked.targets(CatalogFilter(grating="G185M"), settings_key=SETTINGS)
    assert (nuv.target, nuv.verdict, nuv.datasets, nuv.gratings, nuv.proposals) == (
        "HD93521",
        "constant",
        1,
        ("G185M",),
        (22222,),
    )
    assert nuv.exptime == pytest.approx(500.0)
    (stis,) = stocked.targets(CatalogFilter(instrument="STIS", periodic=True), settings_key=SETTINGS)
    assert (stis.target, stis.verdict, stis.datasets, stis.instruments) == (
        "HD93521",
        "periodic",
        1,
        ("STIS",),
    )
    # the other filters choose rows and keep them whole
    (whole,) = stocked.targets(CatalogFilter(proposal=33333), settings_key=SETTINGS)
    assert whole.datasets == 2 and whole.proposals == (22222, 33333)


#: (filters, the (composite "c" or individual "i", rootname) of the products they select, in the default
#: order: verdict (none last), target, composites before individual products).
PRODUCT_FILTERS: list[tuple[dict[str, object], list[tuple[str, str]]]] = [
    ({"product_type": "composite", "variable": True}, [("c", "o1b002010"), ("c", "lb1a01aaq")]),
    ({"product_type": "individual", "periodic": True}, [("i", "lb1c01aaq")]),
    ({"variable": True}, [("c", "o1b002010"), ("i", "lb1c01aaq"), ("c", "lb1a01aaq")]),
    ({"proposal": 11112, "product_type": "composite"}, [("c", "lb1a01aaq")]),
    ({"min_exptime": 2500.0}, [("c", "lb1a01aaq")]),
    ({"name": "azv-148", "product_type": "individual"}, [("i", "lb1a01aaq"), ("i", "lb1a02aaq")]),
    ({"grating": "E140M"}, [("c", "o1b002010"), ("i", "o1b002010")]),
    ({"verdict": "constant", "instrument": "STIS"}, []),
]


def test_product_filters(stocked: Catalog) -> None:
    names = {"c": lambda root: dataset(root).composite, "i": lambda root: dataset(root).individual}
    for filters, expected in PRODUCT_FILTERS:
        assert products(stocked, **filters) == [names[kind](root) for kind, root in expected], filters


def test_products_of_a_composite_with_several_proposals(stocked: Catalog) -> None:
    (row,) = stocked.products(CatalogFilter(proposal=11111, product_type="composite", name="AZV*"))
    assert row.proposals == (11111, 11112) and row.datasets == 2


def test_name_glob_finds_the_normalised_key(stocked: Catalog) -> None:
    for pattern in (
        "AZV-148",
        "azv 148",
        "AZV148",
        "a z v 1 4 8",
        "azv*",
        "?ZV14?",
        "*148",
        "NAME AZV148",
        "*Z*",
    ):
        assert "AZV148" in targets(stocked, name=pattern), pattern


#: (name glob, the targets it finds; None: all of them).
HOSTILE_GLOBS: list[tuple[str, list[str] | None]] = [
    ("o'brien%_star", ["O'BRIEN%_STAR"]),  # % and _ match only themselves, the quote is no SQL
    ("O'BRIEN%_*", ["O'BRIEN%_STAR"]),
    ("O?BRIEN?_STAR", ["O'BRIEN%_STAR"]),  # ? any one character, _ itself
    ("OXBRIEN%XSTAR", []),
    ("back\\slash", ["BACK\\SLASH"]),  # a backslash is no escape
    ("back\\*", ["BACK\\SLASH"]),
    ("bang!star", ["BANG!STAR"]),  # nor is the escape character used for LIKE
    ("BANG!*", ["BANG!STAR"]),
    ("étoile ω", ["ÉTOILE-Ω"]),
    ("*Ω", ["ÉTOILE-Ω"]),
    ("'; DROP TABLE metadata; --", []),
    ("%", []),
    ("_", []),
    ("*", None),
]


def test_name_glob_with_hostile_characters(stocked: Catalog) -> None:
    for pattern, expected in HOSTILE_GLOBS:
        found = targets(stocked, name=pattern)
        assert sorted(found) == sorted(expected if expected is not None else targets(stocked)), pattern
        rows = stocked.products(CatalogFilter(name=pattern))
        assert {r.target for r in rows} == set(found), pattern
    assert len(targets(stocked)) == 11  # nothing was dropped


def test_glob_like_escapes() -> None:
    assert glob_like("a%b_c!d*e?") == "A!%B!_C!!D%E_"
    assert glob_like("NAME  hd-209458") == "HD209458"
    for hostile in HOSTILE:
        assert "*" not in glob_like(hostile) and "?" not in glob_like(hostile)


def _check_order(rows: list[object], column: str, descending: bool, *, text_order: bool) -> None:
    values = [getattr(r, column) for r in rows]
    if column == "verdict":
        values = [None if v is None else VERDICTS.index(v) for v in values]
    present = [v for v in values if v is not None]
    assert values[len(present) :] == [None] * (len(values) - len(present)), (column, descending)  # None last
    if text_order:  # text sorts in the backend's collation (MariaDB's ignores case and accents)
        assert present == sorted(present, reverse=descending), (column, descending)


@pytest.mark.slow
def test_target_sort(stocked: Catalog) -> None:
    for column in TARGET_SORTS:
        for descending in (False, True):
            rows = stocked.targets(CatalogFilter(sort=column, descending=descending), settings_key=SETTINGS)
            _check_order(rows, column, descending, text_order=column != "target")


@pytest.mark.slow
def test_product_sort(stocked: Catalog) -> None:
    text = {"filename", "target", "aperture", "method_settings", "grating"}
    for column in PRODUCT_SORTS:
        for descending in (False, True):
            rows = stocked.products(CatalogFilter(sort=column, descending=descending), settings_key=SETTINGS)
            _check_order(rows, column, descending, text_order=column not in text)


def test_sort_ties_and_limit(stocked: Catalog) -> None:
    top = stocked.targets(CatalogFilter(sort="exptime", descending=True, limit=3), settings_key=SETTINGS)
    assert [r.target for r in top] == ["AZV148", "HD93521", "WD0308-565"]
    assert targets(stocked, sort="datasets", descending=True, limit=2) == ["HD93521", "AZV148"]
    assert targets(stocked, limit=0) == [] and products(stocked, limit=0) == []
    assert len(products(stocked, limit=5)) == 5


def test_unknown_sort_column(stocked: Catalog) -> None:
    with pytest.raises(ValueError, match="sort: 'nope' is not one of target, verdict"):
        stocked.targets(CatalogFilter(sort="nope"))
    with pytest.raises(ValueError, match="sort: 'proposals' is not one of filename"):
        stocked.products(CatalogFilter(sort="proposals"))


def test_empty_results(catalog: Catalog) -> None:
    assert catalog.targets() == [] and catalog.products() == []
    stock(catalog)
    assert catalog.targets(CatalogFilter(name="NOTHING*")) == []
    assert (
        catalog.products(CatalogFilter(verdict="periodic", product_type="composite", grating="G160M")) == []
    )


def test_stale_follows_the_current_settings(stocked: Catalog) -> None:
    def stale(key: str | None) -> set[str]:
        return {r.filename for r in stocked.products(settings_key=key) if r.stale}

    old = dataset("lb1e01aaq").composite
    assert stale(SETTINGS) == {old}  # made by method version 1
    assert stale(None) == {old}  # without settings only the version counts
    assert stale("fap<0.01 p<0.001") == set(VERDICT_OF_STATS)  # other settings: every stats row
    assert {r.target for r in stocked.targets(settings_key="other") if r.stale} == {
        "AZV148",
        "HD93521",
        "WD0308-565",
        "O'BRIEN%_STAR",
        "OXBRIENAXSTAR",
        "BACK\\SLASH",
    }


@pytest.mark.parametrize(
    ("text", "mjd"),
    [
        ("55000", 55000.0),
        (" 55000.25 ", 55000.25),
        ("1858-11-17", 0.0),
        ("2010-11-02", 55502.0),
        ("2010-11-02T06:00", 55502.25),
        ("2010-11-02T06:00:00Z", 55502.25),
        ("2010-11-02T08:00:00+02:00", 55502.25),
    ],
)
def test_parse_since(text: str, mjd: float) -> None:
    assert parse_since(text) == pytest.approx(mjd)


@pytest.mark.parametrize("text", ["yesterday", "2010-13-01", "nan", "inf", ""])
def test_parse_since_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"^since: "):
        parse_since(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"verdict": "flaring"}, "verdict: 'flaring' is not one of"),
        ({"product_type": "both"}, "type: 'both' is not one of individual, composite"),
        ({"limit": -1}, "limit: -1 is negative"),
        ({"min_exptime": float("nan")}, "min_exptime: nan is not a finite number"),
        ({"name": "  "}, "name: '  ' is blank"),
    ],
)
def test_filter_refuses(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CatalogFilter(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", ["hstlc.catalog.listings", "hstlc.catalog.show", "hstlc.export"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
