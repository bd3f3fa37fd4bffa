"""The comparison key of a target name, shared by the catalog and the resolver (stdlib only).

Two spellings of one identifier — an observer's TARGNAME, an alias, a SIMBAD identifier — are the same
target name when their :func:`name_key` is equal: upper case, every run of whitespace (Unicode too)
removed, and SIMBAD's ``NAME ``/``V* ``/``** ``/``* ``/``EM* `` prefix dropped. The catalog indexes
this key as ``metadata.targname_key`` (:func:`hstlc.catalog.store.targname_key`) and the resolver
looks names up by it (:mod:`hstlc.resolver.rules`): defining it once here, below both, keeps the two
from drifting apart (the catalog may not import the resolver).
"""

from __future__ import annotations

#: Prefixes SIMBAD puts before an identifier that are not part of the name.
SIMBAD_PREFIXES: tuple[str, ...] = ("NAME ", "V* ", "** ", "* ", "EM* ")


def name_key(name: str) -> str:
    """The comparison key of an identifier: upper case, no whitespace, no SIMBAD ``NAME ``/``V* `` prefix.

    ``"NGC  224"``, ``"ngc224"`` and ``"NAME NGC 224"`` all give ``"NGC224"``.
    """
    text = " ".join(name.upper().split())
    for prefix in SIMBAD_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return "".join(text.split())


__all__ = ["SIMBAD_PREFIXES", "name_key"]
