"""The variability verdict as a rule over stored flags, and when stored stats are stale (stdlib only).

:func:`verdict_of` is the project's one rule from a lightcurve's flags to its verdict, and
:func:`stale_reason` the one rule for stats that must be recomputed; :func:`settings_key` names the verdict
settings a stats row was made with. :mod:`hstlc.science.variability` computes the flags (and re-exports
these); the catalog's listings apply the same rule to stored rows — importing this module costs nothing
(no numpy, no scipy), so a command that only reads the catalog starts fast.
"""

from __future__ import annotations

STATS_VERSION = 2
"""The version of the method (stored in ``stats.method_version`` and ``details``); ``hstlc stats``
recomputes rows made by another. 1: the original's band flag; 2: FAP over the whole search, multi-scale
χ², windows."""


VERDICTS: tuple[str, ...] = ("periodic", "variable", "constant", "undetermined", "no counts")
"""Every verdict: a significant period; not constant; constant; too few bins or counts to test; no
net counts."""


def verdict_of(*, has_counts: bool, periodogram: bool, variable: bool | None) -> str:
    """The verdict of the flags: ``no counts``, else ``periodic``, else ``variable``, else
    ``undetermined`` when constancy could not be tested (``variable`` None), else ``constant``.

    Parameters
    ----------
    has_counts : bool
        Whether the lightcurve has net counts.
    periodogram : bool
        Whether a significant period was found.
    variable : bool or None
        Whether the rate is not constant (None: not tested).

    Returns
    -------
    verdict : str
        One of :data:`VERDICTS`.

    Examples
    --------
    >>> verdict_of(has_counts=True, periodogram=True, variable=False)
    'periodic'
    >>> verdict_of(has_counts=True, periodogram=False, variable=True)
    'variable'
    >>> verdict_of(has_counts=True, periodogram=False, variable=None)
    'undetermined'
    >>> verdict_of(has_counts=False, periodogram=True, variable=True)
    'no counts'
    """
    if not has_counts:
        return "no counts"
    if periodogram:
        return "periodic"
    if variable is None:
        return "undetermined"
    return "variable" if variable else "constant"


def stale_reason(method_version: int | None, method_settings: str | None,
                 settings_key: str | None = None) -> str | None:
    """Why stored stats must be recomputed — made by another version of the method, or (given the
    current verdict settings' key) with other settings — or ``None`` when they are current.

    Parameters
    ----------
    method_version : int or None
        The stored ``stats.method_version`` (None: made before versions were recorded, version 1).
    method_settings : str or None
        The stored key of the settings the stats were made with (None: not recorded).
    settings_key : str or None, optional
        The current verdict settings' key (default None: settings are not compared).

    Returns
    -------
    reason : str or None
        Why the stats are stale, or None when they are current.

    Examples
    --------
    >>> stale_reason(STATS_VERSION, "fap=0.001", "fap=0.001") is None
    True
    >>> stale_reason(None, None)
    "made by method version 1; this hstlc's is 2"
    >>> stale_reason(STATS_VERSION, None, "fap=0.001")
    'made with settings (not recorded); the current are fap=0.001'
    """
    if method_version != STATS_VERSION:
        return f"made by method version {method_version or 1}; this hstlc's is {STATS_VERSION}"
    if settings_key is not None and method_settings != settings_key:
        return f"made with settings {method_settings or '(not recorded)'}; the current are {settings_key}"
    return None


def settings_key(*, flag_rule: str, fap_threshold: float, variable_p: float, power_threshold: float,
                 poisson_factor_threshold: float) -> str:
    """The key of the verdict settings stored with stats (``stats.method_settings``): only the settings
    the rule in force uses.

    Parameters
    ----------
    flag_rule : str
        ``fap`` (the FAP and χ² tests) or ``original`` (the original catalog's power and poisson_factor
        rules).
    fap_threshold, variable_p : float
        The FAP below which a period is significant, and the χ² p-value below which a lightcurve varies
        (``fap`` rule).
    power_threshold, poisson_factor_threshold : float
        The least power of a significant peak, and the poisson_factor above which a lightcurve varies
        (``original`` rule).

    Returns
    -------
    key : str
        E.g. ``fap<0.001 p<0.001``.

    Examples
    --------
    >>> settings_key(flag_rule="fap", fap_threshold=1e-3, variable_p=1e-3, power_threshold=0.3,
    ...              poisson_factor_threshold=1.5)
    'fap<0.001 p<0.001'
    >>> settings_key(flag_rule="original", fap_threshold=1e-3, variable_p=1e-3, power_threshold=0.3,
    ...              poisson_factor_threshold=1.5)
    'original power>=0.3 pf>1.5'
    """
    if flag_rule == "original":
        return f"original power>={power_threshold:g} pf>{poisson_factor_threshold:g}"
    return f"fap<{fap_threshold:g} p<{variable_p:g}"


__all__ = ["STATS_VERSION", "VERDICTS", "settings_key", "stale_reason", "verdict_of"]
