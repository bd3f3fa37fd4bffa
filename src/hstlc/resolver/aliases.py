"""The alias table: observer spellings → canonical target names, from three sources.

1. the packaged table ``hstlc/data/aliases.csv`` (ships with hstlc);
2. the catalog's ``aliases`` table (shared by everyone using the catalog);
3. the user's own file, ``settings.alias_file`` (default ``<home_dir>/aliases.csv``).

Later sources win over earlier ones, and within a file a later line wins over an earlier one. The files
are CSV with the header ``alias,targname``; blank lines and lines starting with ``#`` are comments.
Aliases are looked up by :func:`~hstlc.resolver.rules.name_key`, so case and spacing do not matter.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from hstlc.errors import ResolverError
from hstlc.resolver.rules import is_hst_name, name_key

log = logging.getLogger(__name__)

HEADER = ("alias", "targname")
PACKAGED = "packaged"
MAX_NAME = 255


@dataclass(frozen=True)
class AliasEntry:
    """One alias-table row and where it came from (``packaged``, ``catalog`` or the user file's path)."""

    alias: str
    targname: str
    source: str


def parse_alias_spec(spec: str) -> tuple[str, str]:
    """``"NGC-224=M31"`` → ``("NGC-224", "M31")`` (upper case, validated); ResolverError if malformed."""
    if spec.count("=") != 1:
        raise ResolverError(
            f"--add {spec!r}: expected exactly one '=' as in ALIAS=TARGNAME (e.g. NGC-224=M31)"
        )
    alias, targname = (part.strip() for part in spec.split("="))
    return validate_entry(alias, targname, where=f"--add {spec!r}")


def validate_entry(alias: str, targname: str, *, where: str) -> tuple[str, str]:
    """Check one alias-table entry; returns it upper-cased. ``where`` names the file/line for the message."""
    alias, targname = alias.strip().upper(), targname.strip().upper()
    if not alias or not targname:
        raise ResolverError(f"{where}: both the alias and the target name are needed (ALIAS=TARGNAME)")
    if len(alias) > MAX_NAME or len(targname) > MAX_NAME:
        raise ResolverError(f"{where}: names longer than {MAX_NAME} characters are not allowed")
    if any(ch in alias for ch in "\r\n\t"):
        raise ResolverError(f"{where}: the alias contains a control character")
    if not is_hst_name(targname):
        raise ResolverError(
            f"{where}: target name {targname!r} is not an HST name "
            "(letters, digits, '-', '.', '+'; no blanks)"
        )
    return alias, targname


def parse_alias_csv(text: str, *, where: str, source: str) -> list[AliasEntry]:
    """Parse alias-table CSV text; ResolverError naming ``where`` and the line for a malformed row."""
    rows = csv.reader(io.StringIO(text, newline=""))
    entries: list[AliasEntry] = []
    header_seen = False
    for row in rows:
        number = rows.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if not header_seen:
            header_seen = True
            if tuple(c.lower() for c in cells) == HEADER:
                continue
        if len(cells) != 2:
            raise ResolverError(
                f"{where}: line {number}: expected 2 columns (alias,targname), found {len(cells)}"
            )
        alias, targname = validate_entry(cells[0], cells[1], where=f"{where}: line {number}")
        entries.append(AliasEntry(alias, targname, source))
    return entries


@lru_cache(maxsize=1)
def packaged_aliases() -> tuple[AliasEntry, ...]:
    """The alias table shipped with hstlc (``hstlc/data/aliases.csv``)."""
    resource = resources.files("hstlc").joinpath("data", "aliases.csv")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.warning("the packaged alias table hstlc/data/aliases.csv is missing; using none")
        return ()
    return tuple(parse_alias_csv(text, where="hstlc/data/aliases.csv", source=PACKAGED))


def read_alias_file(path: Path) -> list[AliasEntry]:
    """The entries of a user alias file ([] when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolverError(f"{path}: cannot read the alias file ({exc})") from None
    return parse_alias_csv(text, where=str(path), source=str(path))


def append_alias(path: Path, alias: str, targname: str) -> bool:
    """Append ``alias,targname`` to the user's alias file (created with a header); False if already there."""
    alias, targname = validate_entry(alias, targname, where=str(path))
    existing = read_alias_file(path)
    current = {name_key(e.alias): e.targname for e in existing}
    if current.get(name_key(alias)) == targname:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists() or path.stat().st_size == 0
        needs_newline = not new_file and not path.read_bytes().endswith(b"\n")
        with path.open("a", encoding="utf-8", newline="") as handle:
            if needs_newline:
                handle.write("\n")
            writer = csv.writer(handle, lineterminator="\n")
            if new_file:
                writer.writerow(HEADER)
            writer.writerow((alias, targname))
    except OSError as exc:
        raise ResolverError(f"{path}: cannot write the alias file ({exc.strerror or exc})") from None
    return True


class AliasTable:
    """Alias lookups by name key; later entries (catalog, then user file) override earlier ones."""

    def __init__(self, entries: Iterable[AliasEntry] = ()) -> None:
        self._by_key: dict[str, AliasEntry] = {}
        for entry in entries:
            self._by_key[name_key(entry.alias)] = entry

    def lookup(self, name: str) -> AliasEntry | None:
        return self._by_key.get(name_key(name))

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[AliasEntry]:
        return iter(self._by_key.values())


__all__ = [
    "PACKAGED",
    "AliasEntry",
    "AliasTable",
    "append_alias",
    "packaged_aliases",
    "parse_alias_csv",
    "parse_alias_spec",
    "read_alias_file",
    "validate_entry",
]
