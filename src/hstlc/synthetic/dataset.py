"""The result object of every generator and the catalogue of bad-data conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

BAD_PROPOSID = 99999
"""The PROPOSID used for the 'Bad Proposal' condition (put it on the blacklist in tests)."""

SHORT_EXPTIME = 0.5
"""EXPTIME (s) of the 'Short Exposure' condition: below the 1 s quality gate."""

BAD_CONDITIONS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "Bad EXPFLAG": MappingProxyType({"expflag": "INTERRUPTED"}),
        "Non-linear time": MappingProxyType({"nonmonotonic_time": True}),
        "No events": MappingProxyType({"source_rate": 0.0, "background_rate": 0.0, "airglow": None}),
        "Singular event": MappingProxyType({"single_time": 12.5}),
        "Bad Proposal": MappingProxyType({"proposid": BAD_PROPOSID}),
        "Short Exposure": MappingProxyType({"exptime": SHORT_EXPTIME}),
    }
)
"""Reason (as recorded by the quality checks, FORMATS §2.5) → generator keyword arguments producing it.

Use as ``make_cos_fuv(tmp_path, **BAD_CONDITIONS["Bad EXPFLAG"])``; every generator accepts them.
"""


@dataclass(frozen=True)
class SyntheticDataset:
    """What a generator wrote and what it injected.

    ``files`` lists every written path (event files, x1d, reference tables), ``event_files`` the
    corrtag/tag files, ``x1d`` the x1d file or ``None``. ``truth`` records the injected rates, signal,
    GTIs and per-segment event counts (see the generator docstrings for its keys).
    """

    rootname: str
    files: tuple[Path, ...]
    event_files: tuple[Path, ...]
    x1d: Path | None
    truth: Mapping[str, Any] = field(default_factory=dict, repr=False)
    reference_files: Mapping[str, Path] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "truth", MappingProxyType(dict(self.truth)))
        object.__setattr__(self, "reference_files", MappingProxyType(dict(self.reference_files)))

    @property
    def directory(self) -> Path:
        """The directory holding the event files."""
        return self.event_files[0].parent if self.event_files else self.files[0].parent


__all__ = ["BAD_CONDITIONS", "BAD_PROPOSID", "SHORT_EXPTIME", "SyntheticDataset"]
