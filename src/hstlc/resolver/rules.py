"""Target-name normalisation: the matching key and the rewrite rules (pure string functions).

Two different things live here:

* :func:`name_key` — how two spellings of one identifier are *compared* (upper case, whitespace removed,
  SIMBAD's ``NAME ``/``V* ``/``* `` prefixes dropped). Defined in :mod:`hstlc.targets` (re-exported
  here) so that ``metadata.targname_key`` (:func:`hstlc.catalog.store.targname_key`) is the same key.
* :func:`apply_rules` — how an observer's TARGNAME is *rewritten* to its canonical HST form. Each rule is
  conservative: it only fires on patterns where the rewrite cannot merge two different targets.

Rules (in order, repeated until nothing changes):

``hst-form``
    Upper case; a blank between a letter and a digit is removed, one between two letters or two digits
    becomes ``-`` (the HST Phase II rule: ``ngc 4378`` → ``NGC4378``, ``alpha cen`` → ``ALPHA-CEN``).
``greek``
    SIMBAD's three-letter Greek abbreviation before a constellation is spelled out as HST requires
    (``ALF-CEN`` → ``ALPHA-CEN``, ``BET-PIC`` → ``BETA-PIC``); only when a real IAU constellation follows.
``catalog-hyphen``
    A hyphen between a catalog prefix and its number is dropped (``AZV-148`` → ``AZV148``,
    ``HD-209458`` → ``HD209458``, ``2MASS-J…`` → ``2MASSJ…``, ``4C-06.41`` → ``4C06.41``,
    ``4C--01.61`` → ``4C01.61``). Catalogs whose
    number starts with a declination sign (BD, CD, CPD, SK, MCG) and names whose hyphen is part of the
    official name (WASP-12, K2-18, KELT-9, HAT-P-11, TOI-700) are not in the list, so they never change.
``copy-suffix``
    ``-COPY``/``-COPY2``/``-COPY-2`` appended to a duplicated target is dropped (``CALLISTO-COPY``).
``index-suffix``
    A trailing index on a solar-system body's pointing name is dropped (``SATURN1`` → ``SATURN``,
    ``JUPITER-NORTH-7`` → ``JUPITER-NORTH``). Only for the named bodies in :data:`SOLAR_SYSTEM_BODIES`:
    digits at the end of anything else (``HD209458``, ``NGC4378``, ``M31``, ``3C273``) are its catalog
    number and stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hstlc.targets import SIMBAD_PREFIXES, name_key

#: Characters HST allows in a TARGNAME (upper case).
HST_NAME = re.compile(r"^[A-Z0-9.+\-]+$")

#: Catalog prefixes whose number is written straight after the prefix (``HD209458``); a hyphen between
#: them is an observer's separator, not part of the designation.
CATALOG_PREFIXES_DIGIT: tuple[str, ...] = (
    "AZV", "AV", "HD", "HR", "HIP", "HZ", "GD", "GJ", "GL", "LHS", "LTT", "LP", "LDS", "WD", "PG", "PKS",
    "HE", "HS", "MRK", "NGC", "IC", "UGC", "PGC", "ESO", "IRAS", "FEIGE", "BPM", "KIC", "EPIC", "TIC",
    "TYC", "GSC", "SN", "M", "3C",
)
#: Catalogs whose designation starts with ``J`` (J2000) or ``B`` (B1950) coordinates.
CATALOG_PREFIXES_COORD: tuple[str, ...] = (
    "2MASS", "1RXS", "SDSS", "GALEX", "WISE", "CXOU", "CXO", "RX", "2XMM", "3XMM", "1WGA", "FBQS", "QSO",
)
#: Catalogs whose number may follow a doubled hyphen (``4C--01.61``): as in HST TARGNAMEs, every hyphen
#: between the prefix and the number is taken as a separator (``4C-06.41`` → ``4C06.41``, ``4C--01.61`` →
#: ``4C01.61``), so resolving a resolved name gives it back unchanged.
CATALOG_PREFIXES_SIGNED: tuple[str, ...] = ("4C",)

#: Solar-system bodies whose pointing names observers number (``SATURN1``, ``JUPITER-NORTH-7``).
SOLAR_SYSTEM_BODIES: tuple[str, ...] = (
    "MERCURY", "VENUS", "MOON", "MARS", "PHOBOS", "DEIMOS", "JUPITER", "IO", "EUROPA", "GANYMEDE",
    "CALLISTO", "AMALTHEA", "SATURN", "TITAN", "ENCELADUS", "RHEA", "DIONE", "TETHYS", "IAPETUS", "MIMAS",
    "PHOEBE", "URANUS", "MIRANDA", "ARIEL", "UMBRIEL", "TITANIA", "OBERON", "NEPTUNE", "TRITON", "PLUTO",
    "CHARON", "CERES", "VESTA", "PALLAS", "ERIS", "MAKEMAKE", "HAUMEA", "SEDNA",
)

#: SIMBAD's Greek-letter abbreviations and the spelled-out form HST asks for.
GREEK_ABBREVIATIONS: dict[str, str] = {
    "ALF": "ALPHA", "BET": "BETA", "GAM": "GAMMA", "DEL": "DELTA", "EPS": "EPSILON", "ZET": "ZETA",
    "TET": "THETA", "THE": "THETA", "IOT": "IOTA", "KAP": "KAPPA", "LAM": "LAMBDA", "KSI": "XI",
    "OMI": "OMICRON", "SIG": "SIGMA", "UPS": "UPSILON", "OME": "OMEGA",
}

#: The 88 IAU constellation abbreviations (upper case).
CONSTELLATIONS: frozenset[str] = frozenset((
    "AND", "ANT", "APS", "AQR", "AQL", "ARA", "ARI", "AUR", "BOO", "CAE", "CAM", "CNC", "CVN", "CMA", "CMI",
    "CAP", "CAR", "CAS", "CEN", "CEP", "CET", "CHA", "CIR", "COL", "COM", "CRA", "CRB", "CRV", "CRT", "CRU",
    "CYG", "DEL", "DOR", "DRA", "EQU", "ERI", "FOR", "GEM", "GRU", "HER", "HOR", "HYA", "HYI", "IND", "LAC",
    "LEO", "LMI", "LEP", "LIB", "LUP", "LYN", "LYR", "MEN", "MIC", "MON", "MUS", "NOR", "OCT", "OPH", "ORI",
    "PAV", "PEG", "PER", "PHE", "PIC", "PSA", "PSC", "PUP", "PYX", "RET", "SGE", "SGR", "SCO", "SCL", "SCT",
    "SER", "SEX", "TAU", "TEL", "TRA", "TRI", "TUC", "UMA", "UMI", "VEL", "VIR", "VOL", "VUL",
))


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_HYPHEN_DIGIT = re.compile(rf"^({_alternation(CATALOG_PREFIXES_DIGIT)})-(?=\d)")
_HYPHEN_COORD = re.compile(rf"^({_alternation(CATALOG_PREFIXES_COORD)})-(?=[JB]\d)")
_HYPHEN_SIGNED = re.compile(rf"^({_alternation(CATALOG_PREFIXES_SIGNED)})-(?=[+-]?\d)")
_COPY = re.compile(r"^(?P<base>.*[A-Z0-9.+])-COPY(?:-?\d+)?$")
_INDEX = re.compile(rf"^(?P<base>(?:{_alternation(SOLAR_SYSTEM_BODIES)})(?:-[A-Z]+)*)-?\d+$")
_GREEK = re.compile(rf"^({'|'.join(GREEK_ABBREVIATIONS)})-([A-Z]{{3}})(?=$|-)")
_BLANKS = re.compile(r"\s+")


def _hst_form(name: str) -> str:
    text = name.strip().upper()

    def blank(match: re.Match[str]) -> str:
        before, after = text[match.start() - 1], text[match.end()]
        same_kind = (before.isalpha() and after.isalpha()) or (before.isdigit() and after.isdigit())
        return "-" if same_kind else ""

    return _BLANKS.sub(blank, text)


def _greek(name: str) -> str:
    match = _GREEK.match(name)
    if match is None or match.group(2) not in CONSTELLATIONS:
        return name
    return f"{GREEK_ABBREVIATIONS[match.group(1)]}-{match.group(2)}{name[match.end():]}"


def _catalog_hyphen(name: str) -> str:
    for pattern in (_HYPHEN_DIGIT, _HYPHEN_COORD, _HYPHEN_SIGNED):
        match = pattern.match(name)
        if match:
            return match.group(1) + name[match.end():]
    return name


def _copy_suffix(name: str) -> str:
    match = _COPY.match(name)
    return match.group("base") if match else name


def _index_suffix(name: str) -> str:
    match = _INDEX.match(name)
    return match.group("base") if match else name


#: The rules in the order they are tried: (name, function). Each returns its input when it does not apply.
RULES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("hst-form", _hst_form),
    ("greek", _greek),
    ("catalog-hyphen", _catalog_hyphen),
    ("copy-suffix", _copy_suffix),
    ("index-suffix", _index_suffix),
)


def apply_rules(name: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite ``name`` with :data:`RULES` until nothing changes; returns (new name, rules that fired).

    >>> apply_rules("CALLISTO-COPY")
    ('CALLISTO', ('copy-suffix',))
    >>> apply_rules("HD209458")
    ('HD209458', ())
    """
    current = name.strip()
    fired: list[str] = []
    for _ in range(10):  # every rule shortens or canonicalises the name: a fixed point comes quickly
        changed = False
        for rule, function in RULES:
            new = function(current)
            if new != current and new:
                current = new
                changed = True
                if rule not in fired:
                    fired.append(rule)
        if not changed:
            break
    return current, tuple(fired)


def is_hst_name(name: str) -> bool:
    """Whether ``name`` is a valid HST TARGNAME (upper case letters, digits, ``-``, ``.``, ``+``)."""
    return bool(HST_NAME.match(name))


__all__ = [
    "CATALOG_PREFIXES_COORD",
    "CATALOG_PREFIXES_DIGIT",
    "CATALOG_PREFIXES_SIGNED",
    "CONSTELLATIONS",
    "GREEK_ABBREVIATIONS",
    "RULES",
    "SIMBAD_PREFIXES",
    "SOLAR_SYSTEM_BODIES",
    "apply_rules",
    "is_hst_name",
    "name_key",
]
