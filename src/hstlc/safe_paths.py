"""Turning header values into safe path components, and joining them under a base folder.

TARGNAME, ROOTNAME, APERTURE … come from FITS headers, i.e. from whoever wrote the file. Before such a
value becomes part of a path it goes through :func:`safe_component`, and paths built from components go
through :func:`safe_join`, which refuses anything that would land outside the base folder.

Rules of :func:`safe_component` (the result is one component on POSIX and Windows alike):

* only HST-legal characters survive: ASCII letters, digits, ``-``, ``.``, ``+``, ``_``; every run of
  other characters (``/``, ``\\``, NUL, control characters, spaces, non-ASCII …) becomes one ``_``;
* runs of dots collapse to one dot (no ``..``); leading dots and dashes and trailing dots are removed
  (no hidden files, nothing that looks like a command-line option, nothing Windows would silently strip);
* Windows reserved device names (``CON``, ``NUL``, ``COM1`` … also with an extension) get a ``_`` prefix;
* an empty input gives ``fallback``;
* whenever the value had to be changed or shortened, ``-`` and the first 12 hex digits of the SHA-256
  of the original value are appended, so two different hostile values never share a result (a value
  that is already safe maps to itself);
* the result is at most ``max_length`` characters.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from hstlc.errors import FilingError

_HASH_DIGITS = 12
_SUFFIX_LENGTH = _HASH_DIGITS + 1  # "-" + digits
MIN_MAX_LENGTH = _SUFFIX_LENGTH + 3

_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9.+_-]+")
_DOT_RUN = re.compile(r"\.{2,}")
_SAFE = re.compile(r"[A-Za-z0-9+_][A-Za-z0-9.+_-]*")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]


def _is_windows_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED


def _clean(text: str) -> str:
    cleaned = _UNSAFE_RUN.sub("_", text)
    cleaned = _DOT_RUN.sub(".", cleaned)
    cleaned = cleaned.lstrip(".-").rstrip(".")
    if cleaned and _is_windows_reserved(cleaned):
        cleaned = "_" + cleaned
    return cleaned


def is_safe_component(value: str, *, max_length: int = 255) -> bool:
    """True if ``value`` is already a component :func:`safe_component` would return unchanged."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and _SAFE.fullmatch(value) is not None
        and ".." not in value
        and not value.endswith(".")
        and not _is_windows_reserved(value)
    )


def safe_component(value: object, *, max_length: int = 64, fallback: str = "UNKNOWN") -> str:
    """Return ``value`` as a string that is safe as ONE path component (see the module rules).

    ``value`` is converted with ``str()`` (header values may be numbers). ``fallback`` is returned for
    an empty value; it must itself be a safe component no longer than ``max_length``.
    """
    if max_length < MIN_MAX_LENGTH:
        raise ValueError(f"max_length must be at least {MIN_MAX_LENGTH}, got {max_length}")
    if not is_safe_component(fallback, max_length=max_length):
        raise ValueError(f"fallback {fallback!r} is not a safe path component")
    text = value if isinstance(value, str) else str(value)
    if text == "":
        return fallback
    cleaned = _clean(text)
    if cleaned == text and len(cleaned) <= max_length:
        return cleaned
    base = cleaned or fallback
    base = base[: max_length - _SUFFIX_LENGTH].rstrip(".")
    return f"{base}-{_digest(text)}"


def _split_parts(component: str) -> list[str]:
    """The parts of ``component`` split at both separators, rejecting absolute paths and drives."""
    if "\x00" in component:
        raise FilingError(f"path component {component!r} contains a NUL character")
    windows = PureWindowsPath(component)
    if PurePosixPath(component).is_absolute() or windows.drive or windows.root:
        raise FilingError(f"path component {component!r} is absolute; expected a name inside the folder")
    return [part for part in re.split(r"[\\/]+", component) if part not in ("", ".")]


def safe_join(base: str | os.PathLike[str], *components: str | os.PathLike[str]) -> Path:
    """``base`` joined with ``components``, guaranteed to stay inside ``base``.

    Components may hold sub-folders (``"cos/fuv"``), but no absolute path, drive, NUL, or ``..`` that
    climbs out of ``base``; symbolic links inside ``base`` that point outside it are refused as well.
    Raises :class:`~hstlc.errors.FilingError` otherwise. The result is ``base`` / the normalised parts
    (``base`` itself is not resolved, so the caller's spelling of it is kept).
    """
    base_path = Path(base)
    parts: list[str] = []
    for component in components:
        text = os.fspath(component)
        if not isinstance(text, str):
            raise FilingError(f"path component {text!r} is not text")
        for part in _split_parts(text):
            if part == "..":
                if not parts:
                    raise FilingError(f"path component {text!r} would leave the folder {base_path}")
                parts.pop()
            else:
                parts.append(part)
    joined = base_path.joinpath(*parts)
    real_base = base_path.resolve()
    real_joined = joined.resolve()
    if real_joined != real_base and real_base not in real_joined.parents:
        raise FilingError(f"{joined} resolves to {real_joined}, outside the folder {real_base}")
    return joined


__all__ = ["MIN_MAX_LENGTH", "is_safe_component", "safe_component", "safe_join"]
