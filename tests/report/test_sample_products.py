"""The report tests' sample data (:mod:`support.report`) has the character each test relies on."""

from __future__ import annotations

from hstlc.science.variability import compute_stats
from support.report import FAINT, SPECS, Page, external_references, make_lightcurve


def test_generated_lightcurves_have_the_intended_character() -> None:
    periodic = compute_stats(make_lightcurve(period=240.0))
    flat = compute_stats(make_lightcurve(seed=1))
    empty = compute_stats(make_lightcurve(zero=True))
    assert periodic.verdict == "periodic" and flat.verdict == "constant"
    assert empty.total == 0 and empty.poisson_factor is None and empty.verdict == "no counts"
    lc = make_lightcurve(datasets=3)
    assert sorted(set(lc.dataset.tolist())) == [1, 2, 3]


def test_faint_source_on_a_bright_background_is_constant_with_a_high_poisson_factor() -> None:
    """The case the original's poisson_factor rule got wrong: what the report must call boring."""
    for seed in range(3):
        stats = compute_stats(make_lightcurve(seed=seed, **FAINT))
        assert stats.verdict == "constant", seed
        assert stats.poisson_factor is not None and 1.7 < stats.poisson_factor < 2.1


def test_every_spec_gets_the_verdict_its_category_expects() -> None:
    category = {"periodic": "interesting", "variable": "interesting", "constant": "boring",
                "no counts": "null"}
    for spec in SPECS:
        lc = make_lightcurve(period=spec.get("period"), zero=spec.get("zero", False),
                             seed=spec.get("seed", 0), **(FAINT if spec.get("faint") else {}))
        assert category[compute_stats(lc).verdict] == spec["expected"], spec["root"]


def test_external_reference_detector() -> None:
    page = Page('<a href="https://x">a</a><a href="//cdn/x">b</a><img src="data:x"><a href="p/q.html">c</a>'
                '<a href="#top">d</a><a href="file:///etc/passwd">e</a><a href="javascript:alert(1)">f</a>')
    assert external_references(page) == ["https://x", "//cdn/x", "file:///etc/passwd", "javascript:alert(1)",
                                          "data:x"]
