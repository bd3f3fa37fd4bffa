"""The listings of a generated catalog (``support.catalog_rows``, the benchmark's rows at a small size)
against the same numbers worked out here in plain Python from the rows, on every backend."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from hstlc.catalog import Catalog
from hstlc.catalog.listings import CatalogFilter
from hstlc.science.variability import VERDICTS, verdict_of
from support.catalog_rows import SETTINGS_KEY, CatalogRows, fill, generate


@pytest.fixture(scope="module")
def rows() -> CatalogRows:
    return generate(metadata_rows=1200, stats_products=250, seed=7)


def _verdict(stats: dict[str, Any]) -> str:
    total = stats["total"]
    return verdict_of(has_counts=total is not None and total > 0, periodogram=bool(stats["periodogram"]),
                      variable=stats["variable"])


def expected_products(rows: CatalogRows) -> dict[str, dict[str, Any]]:
    meta = {m["filename"]: m for m in rows.metadata}
    members: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for out in rows.outputs:
        m = meta[out["filename"]]
        for name in (out["individual_filename"], out["composite_filename"]):
            members[name][m["rootname"]].append(m)
    stats = {s["lightcurve_filename"]: s for s in rows.stats}
    found = {}
    for name, datasets in members.items():
        every = [m for group in datasets.values() for m in group]
        found[name] = {
            "datasets": len(datasets),
            "exptime": sum(max(m["exptime"] for m in group) for group in datasets.values()),
            "first_mjd": min(m["expstart"] for m in every),
            "last_mjd": max(m["expend"] for m in every),
            "target": every[0]["targname"],
            "proposals": tuple(sorted({m["proposid"] for m in every})),
            "verdict": _verdict(stats[name]) if name in stats else None,
            "stale": name in stats and stats[name]["method_version"] != 2,
        }
    return found


def expected_targets(rows: CatalogRows) -> dict[str, dict[str, Any]]:
    products = expected_products(rows)
    stats = {s["lightcurve_filename"]: s for s in rows.stats}
    by_target: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in rows.metadata:
        by_target[m["targname"]].append(m)
    found = {}
    for target, every in by_target.items():
        datasets: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in every:
            datasets[m["rootname"]].append(m)
        mine = [n for n, p in products.items() if p["target"] == target and n in stats]
        composites = [n for n in mine if n.startswith("hlsp_")]
        counted = composites or mine
        decided = min(counted, default=None, key=lambda n: (
            VERDICTS.index(_verdict(stats[n])), stats[n]["fap"] is None, stats[n]["fap"] or 0.0, n))
        found[target] = {
            "datasets": len(datasets),
            "exptime": sum(max(m["exptime"] for m in group) for group in datasets.values()),
            "first_mjd": min(m["expstart"] for m in every),
            "last_mjd": max(m["expend"] for m in every),
            "gratings": tuple(sorted({m["opt_elem"] for m in every})),
            "configurations": len({(m["instrume"], m["detector"], m["opt_elem"], m["cenwave"], m["aperture"])
                                   for m in every}),
            "proposals": tuple(sorted({m["proposid"] for m in every})),
            "verdict": None if decided is None else _verdict(stats[decided]),
            "decided_by": decided,
            "stale": any(stats[n]["method_version"] != 2 for n in counted),
        }
    return found


def _same(got: dict[str, Any], wanted: dict[str, Any], what: str) -> None:
    for key, value in wanted.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (what, key)
        else:
            assert got[key] == value, (what, key)


def test_listings_of_a_generated_catalog(catalog: Catalog, rows: CatalogRows) -> None:
    fill(catalog, rows)
    targets = {r.target: r.to_dict() for r in catalog.targets(settings_key=SETTINGS_KEY)}
    wanted = expected_targets(rows)
    assert set(targets) == set(wanted)
    for name, values in wanted.items():
        _same({k: tuple(v) if isinstance(v, list) else v for k, v in targets[name].items()}, values, name)
    products = {r.filename: r for r in catalog.products(settings_key=SETTINGS_KEY)}
    wanted_products = expected_products(rows)
    assert set(products) == set(wanted_products)
    for name, values in wanted_products.items():
        _same({k: getattr(products[name], k) for k in values}, values, name)
    varying = {r.filename for r in catalog.products(CatalogFilter(variable=True))}
    assert varying == {n for n, p in wanted_products.items() if p["verdict"] in ("periodic", "variable")}
    assert len(catalog.targets(CatalogFilter(limit=7, sort="exptime", descending=True))) == 7
