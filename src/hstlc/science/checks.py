"""The six data-quality checks of the original pipeline (FORMATS.md §2.5), pure and vectorised.

:func:`run_checks` takes an :class:`~hstlc.domain.Observation` and the TIME column and returns every
failing reason, in the original's order (``hstlc.catalog.schema.BAD_DATA_REASONS``):

1. ``Bad EXPFLAG``      EXPFLAG (EVENTS header) is not ``NORMAL``;
2. ``Non-linear time``  TIME decreases somewhere (it must be non-decreasing);
3. ``No events``        the event list is empty;
4. ``Singular event``   every event has the same TIME (one event included);
5. ``Bad Proposal``     PROPOSID is in ``bad_proposals``;
6. ``Short Exposure``   EXPTIME (EVENTS header) is below ``min_exptime`` seconds.

Unlike the original (a Python loop over events), the time tests are single numpy passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hstlc.domain import Observation

BAD_EXPFLAG = "Bad EXPFLAG"
NON_LINEAR_TIME = "Non-linear time"
NO_EVENTS = "No events"
SINGULAR_EVENT = "Singular event"
BAD_PROPOSAL = "Bad Proposal"
SHORT_EXPOSURE = "Short Exposure"

REASONS: tuple[str, ...] = (
    BAD_EXPFLAG, NON_LINEAR_TIME, NO_EVENTS, SINGULAR_EVENT, BAD_PROPOSAL, SHORT_EXPOSURE
)


@dataclass(frozen=True)
class CheckResult:
    """The failing reasons of one file (empty = good), in the order of :data:`REASONS`.

    Parameters
    ----------
    reasons : tuple of str, optional
        The failing reasons, each one of :data:`REASONS` (default none: the file is good).

    Examples
    --------
    >>> CheckResult().ok, CheckResult((NO_EVENTS,)).ok
    (True, False)
    >>> CheckResult((SHORT_EXPOSURE, NO_EVENTS)).merged(CheckResult((BAD_EXPFLAG, NO_EVENTS))).reasons
    ('Bad EXPFLAG', 'No events', 'Short Exposure')
    """

    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.reasons

    def merged(self, other: CheckResult) -> CheckResult:
        """Reasons of both (e.g. the two segments of an FUV pair), each once, in canonical order.

        Parameters
        ----------
        other : CheckResult
            The other file's result.

        Returns
        -------
        result : CheckResult
            The union of both results' reasons, in the order of :data:`REASONS`.
        """
        combined = set(self.reasons) | set(other.reasons)
        return CheckResult(tuple(r for r in REASONS if r in combined))


def is_non_decreasing(times: npt.NDArray[Any]) -> bool:
    """True when ``times[i+1] >= times[i]`` everywhere (one vectorised pass).

    Parameters
    ----------
    times : ndarray, shape (n,)
        Event times (a NaN compares as a decrease).

    Returns
    -------
    ordered : bool
        Whether the times never decrease (True for fewer than two).

    Examples
    --------
    >>> is_non_decreasing(np.array([0.0, 1.0, 1.0, 2.5])), is_non_decreasing(np.array([0.0, 2.0, 1.0]))
    (True, False)
    >>> is_non_decreasing(np.array([])), is_non_decreasing(np.array([0.0, np.nan]))
    (True, False)
    """
    if len(times) < 2:
        return True
    return bool(np.all(times[1:] >= times[:-1]))


def is_singular(times: npt.NDArray[Any]) -> bool:
    """True when there are events and all share one time.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Event times.

    Returns
    -------
    singular : bool
        Whether ``times`` is non-empty with one distinct value (one event included).

    Examples
    --------
    >>> is_singular(np.array([3.0, 3.0, 3.0])), is_singular(np.array([3.0]))
    (True, True)
    >>> is_singular(np.array([3.0, 4.0])), is_singular(np.array([]))
    (False, False)
    """
    if len(times) == 0:
        return False
    return bool(times.min() == times.max())


def run_checks(
    observation: Observation,
    times: npt.ArrayLike,
    *,
    bad_proposals: Iterable[int] = (),
    min_exptime: float = 1.0,
) -> CheckResult:
    """All failing quality checks of one event file (see the module docstring).

    Parameters
    ----------
    observation : Observation
        Header metadata of the file (EXPFLAG, PROPOSID, EXPTIME).
    times : array_like, shape (n,)
        The TIME column of the events.
    bad_proposals : iterable of int, optional
        Proposal IDs whose data are bad (default none).
    min_exptime : float, optional
        Shortest acceptable EXPTIME (s; default 1).

    Returns
    -------
    result : CheckResult
        The failing reasons, in the order of :data:`REASONS` (none: the file is good).

    Raises
    ------
    ValueError
        If ``times`` is not one-dimensional.

    Examples
    --------
    >>> obs = Observation(filename="la8n01qhq_corrtag_a.fits", rootname="la8n01qhq", instrume="COS",
    ...                   detector="FUV", proposid=12345, exptime=500.0)
    >>> run_checks(obs, [0.0, 0.5, 0.5, 2.0]).ok
    True
    >>> run_checks(obs, [], bad_proposals=[12345]).reasons
    ('No events', 'Bad Proposal')
    >>> run_checks(obs, [5.0, 1.0], min_exptime=1000.0).reasons
    ('Non-linear time', 'Short Exposure')
    >>> from dataclasses import replace
    >>> run_checks(replace(obs, expflag="INTERRUPTED"), [7.0]).reasons
    ('Bad EXPFLAG', 'Singular event')
    """
    t = np.asarray(times)
    if t.ndim != 1:
        raise ValueError("times must be one-dimensional")
    reasons: list[str] = []
    if observation.expflag.strip().upper() != "NORMAL":
        reasons.append(BAD_EXPFLAG)
    if not is_non_decreasing(t):
        reasons.append(NON_LINEAR_TIME)
    if len(t) == 0:
        reasons.append(NO_EVENTS)
    if is_singular(t):
        reasons.append(SINGULAR_EVENT)
    if observation.proposid is not None and int(observation.proposid) in {int(p) for p in bad_proposals}:
        reasons.append(BAD_PROPOSAL)
    if not observation.exptime >= min_exptime:
        reasons.append(SHORT_EXPOSURE)
    return CheckResult(tuple(reasons))


__all__ = [
    "BAD_EXPFLAG",
    "BAD_PROPOSAL",
    "NON_LINEAR_TIME",
    "NO_EVENTS",
    "REASONS",
    "SHORT_EXPOSURE",
    "SINGULAR_EVENT",
    "CheckResult",
    "is_non_decreasing",
    "is_singular",
    "run_checks",
]
