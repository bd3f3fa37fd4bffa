"""A small, defensive client for the CDS Sesame name resolver.

* URL: ``<base>?<name>`` with the name percent-encoded (``+`` → ``%2B``; the original sent it raw and
  Sesame read it as a space). The base URL and its mirrors come from the settings and are tried in turn.
* Each URL gets ``sesame_retries`` retries with exponential backoff for transient failures (connection
  errors, timeouts, HTTP 5xx/429); other failures (HTTP 4xx, an over-long or malformed reply) move on to
  the next mirror at once.
* The reply is streamed and abandoned as soon as it exceeds ``sesame_max_bytes`` or takes longer than
  ``sesame_timeout`` in total.
* XML is parsed with :mod:`defusedxml`: entity declarations (billion laughs, XXE) and external
  references are refused before anything is expanded or read.

"Found" follows FORMATS.md §8: a reply is a success when some ``Resolver`` block has both ``jradeg`` and
``jdedeg``; ``<INFO>`` text containing "nothing found" marks that resolver as a miss. Aliases are
gathered from every successful resolver (``<oname>`` first, then the ``<alias>`` elements).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hstlc.config import Settings
from hstlc.errors import ResolverError

log = logging.getLogger(__name__)

CHUNK = 16_384


class SesameError(ResolverError):
    """Sesame could not answer (every URL failed, or the reply was unusable)."""


@dataclass(frozen=True)
class SesameResult:
    """What Sesame said about ``query``: found or not, its identifiers and position (degrees)."""

    query: str
    found: bool
    aliases: tuple[str, ...] = ()
    ra: float | None = None
    dec: float | None = None


class _Transient(Exception):
    """A failure worth retrying on the same URL."""


class _Permanent(Exception):
    """A failure that the same URL will repeat: try the next mirror."""


def sesame_url(base: str, name: str) -> str:
    """``base`` + ``?`` + ``name`` percent-encoded (every reserved character, ``+`` included)."""
    return f"{base}?{quote(name, safe='')}"


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1].lower()


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str | None:
    for child in _children(element, name):
        if child.text and child.text.strip():
            return child.text.strip()
    return None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None  # NaN is no position


def parse_sesame_xml(data: bytes, query: str) -> SesameResult:
    """Parse a Sesame XML reply (``-oxI``); SesameError when it is malformed, unsafe or not Sesame's."""
    try:
        root = fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SesameError(f"{query}: refused an unsafe Sesame reply ({type(exc).__name__})") from None
    except (ParseError, ValueError) as exc:
        raise SesameError(f"{query}: Sesame reply is not well-formed XML ({exc})") from None
    if _local(root.tag) != "sesame":
        raise SesameError(f"{query}: reply is not a Sesame document (root element <{_local(root.tag)}>)")
    aliases: list[str] = []
    found = False
    ra = dec = None
    for resolver in root.iter():
        if _local(resolver.tag) != "resolver":
            continue
        infos = " ".join((i.text or "") for i in _children(resolver, "info")).lower()
        if "nothing found" in infos:
            continue
        r_ra, r_dec = _float(_text(resolver, "jradeg")), _float(_text(resolver, "jdedeg"))
        if r_ra is None or r_dec is None:
            continue
        if not found:
            found, ra, dec = True, r_ra, r_dec
        for child in resolver:
            if _local(child.tag) in ("oname", "alias") and child.text and child.text.strip():
                alias = " ".join(child.text.split())
                if alias not in aliases:
                    aliases.append(alias)
    return SesameResult(query=query, found=found, aliases=tuple(aliases), ra=ra, dec=dec)


def _download(session: requests.Session, url: str, *, timeout: float, max_bytes: int) -> bytes:
    start = time.monotonic()
    try:
        with session.get(url, timeout=(timeout, timeout), stream=True) as reply:
            if reply.status_code >= 500 or reply.status_code == 429:
                raise _Transient(f"HTTP {reply.status_code}")
            if reply.status_code != 200:
                raise _Permanent(f"HTTP {reply.status_code}")
            length = reply.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _Permanent(f"reply of {int(length)} bytes exceeds sesame_max_bytes={max_bytes}")
            chunks: list[bytes] = []
            total = 0
            for chunk in reply.iter_content(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise _Permanent(f"reply longer than sesame_max_bytes={max_bytes}")
                if time.monotonic() - start > timeout:
                    raise _Transient(f"reply took longer than sesame_timeout={timeout:g} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise _Transient(f"no reply within sesame_timeout={timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise _Transient(f"connection failed ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise _Permanent(f"request failed ({type(exc).__name__}: {exc})") from None


def sesame_bases(settings: Settings) -> list[str]:
    """The Sesame base URLs to try, in order, without duplicates."""
    bases: list[str] = []
    for base in (settings.sesame_url, *settings.sesame_mirrors):
        if base not in bases:
            bases.append(base)
    return bases


def fetch_sesame(
    name: str,
    *,
    settings: Settings,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SesameResult:
    """Ask Sesame about ``name``, trying each URL with retries; SesameError when none answers usefully."""
    own = session is None
    http = session or new_session()
    problems: list[str] = []
    try:
        for base in sesame_bases(settings):
            url = sesame_url(base, name)
            host = urlsplit(base).netloc
            for attempt in range(settings.sesame_retries + 1):
                if attempt:
                    sleep(settings.sesame_backoff * 2 ** (attempt - 1))
                try:
                    data = _download(http, url, timeout=settings.sesame_timeout,
                                     max_bytes=settings.sesame_max_bytes)
                except _Transient as exc:
                    problems.append(f"{host}: {exc}")
                    log.debug("Sesame %s attempt %d for %r: %s", host, attempt + 1, name, exc)
                    continue
                except _Permanent as exc:
                    problems.append(f"{host}: {exc}")
                    break
                try:
                    return parse_sesame_xml(data, name)
                except SesameError as exc:
                    problems.append(f"{host}: {str(exc).removeprefix(f'{name}: ')}")
                    break
    finally:
        if own:
            http.close()
    raise SesameError(f"{name}: Sesame failed ({'; '.join(problems) or 'no URL configured'})")


def new_session() -> requests.Session:
    """A requests session with hstlc's User-Agent."""
    from hstlc import __version__

    session = requests.Session()
    session.headers["User-Agent"] = f"hstlc/{__version__} (target-name resolver)"
    return session


__all__ = [
    "SesameError",
    "SesameResult",
    "fetch_sesame",
    "new_session",
    "parse_sesame_xml",
    "sesame_bases",
    "sesame_url",
]
