"""A small, defensive client for the CDS Sesame name resolver.

* URL: ``<base>?<name>`` with the name percent-encoded (``+`` → ``%2B``; the original sent it raw and
  Sesame read it as a space). The base URL and its mirrors come from the settings and are tried in turn.
* Each URL gets ``sesame_retries`` retries with exponential backoff for transient failures (HTTP
  5xx/429, a connection dropped mid-reply); other failures (HTTP 4xx, an over-long or malformed reply)
  move on to the next mirror at once.
* A URL that cannot be reached — connection refused, host name not resolved, or no (complete) reply
  within ``sesame_timeout`` — is not retried: the next mirror is the retry, and a
  :class:`SesameClient` skips that URL for the rest of its run. When every URL is unreachable the
  :class:`SesameError` says so (``kind="unreachable"``) and the resolver stops asking for the run.
* An optional deadline (the resolver's ``resolver_budget``) shortens the last request and cancels
  retries that would pass it (``kind="budget"``).
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
from typing import Literal
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from urllib3.exceptions import NameResolutionError, NewConnectionError

from hstlc.config import Settings
from hstlc.errors import ResolverError

log = logging.getLogger(__name__)

CHUNK = 16_384


FailureKind = Literal["failed", "unreachable", "budget"]


class SesameError(ResolverError):
    """Sesame could not answer (every URL failed, or the reply was unusable).

    ``kind`` is ``unreachable`` when no URL could be reached (refused, unresolved, timed out),
    ``budget`` when the deadline ran out first, else ``failed`` (HTTP errors, unusable replies).
    """

    def __init__(self, message: str, kind: FailureKind = "failed") -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


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


class _Unreachable(Exception):
    """The URL cannot be reached or does not answer in time: try the next mirror, and skip it later."""


def _connect_failure(exc: requests.ConnectionError) -> str | None:
    """Why a connection could not be made (refused, name not resolved), or None for a dropped one."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen or not isinstance(item, BaseException):
            continue
        seen.add(id(item))
        if isinstance(item, NameResolutionError):
            return "host name not resolved"
        if isinstance(item, NewConnectionError):
            text = str(item).lower()
            return "connection refused" if "refused" in text else "cannot connect"
        stack.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return None


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
    """The reply body; _Transient, _Permanent or _Unreachable on failure."""
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
                    raise _Unreachable(f"reply took longer than sesame_timeout={timeout:g} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise _Unreachable(f"no reply within sesame_timeout={timeout:g} s") from None
    except requests.ConnectionError as exc:
        why = _connect_failure(exc)
        if why is not None:
            raise _Unreachable(f"connection failed ({why})") from None
        if "timed out" in str(exc).lower():  # a read timeout while streaming the body
            raise _Unreachable(f"no reply within sesame_timeout={timeout:g} s") from None
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


class SesameClient:
    """Asks Sesame for one run: one HTTP session, and the URLs found unreachable are skipped.

    ``down`` maps each base URL that could not be reached to why; once every URL is down,
    :meth:`fetch` fails at once with ``kind="unreachable"`` and makes no request.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._http = session
        self._own = session is None
        self._sleep = sleep
        self.down: dict[str, str] = {}
        self.requests = 0
        """HTTP requests sent so far."""

    def close(self) -> None:
        if self._http is not None and self._own:
            self._http.close()
            self._http = None

    def __enter__(self) -> SesameClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def unreachable(self) -> str:
        """Why every URL is down, e.g. ``cds.unistra.fr: connection failed (connection refused)``."""
        return "; ".join(dict.fromkeys(f"{urlsplit(b).netloc}: {why}" for b, why in self.down.items()))

    def fetch(self, name: str, *, deadline: float | None = None) -> SesameResult:
        """Ask about ``name``, trying each URL not known to be down; SesameError when none answers.

        ``deadline`` (a :func:`time.monotonic` value) caps each request's timeout and cancels a retry
        that would start after it.
        """
        settings = self.settings
        bases = [b for b in sesame_bases(settings) if b not in self.down]
        if not bases:
            if not self.down:
                raise SesameError(f"{name}: Sesame failed (no URL configured)")
            raise SesameError(f"{name}: Sesame unreachable ({self.unreachable()})", "unreachable")
        if self._http is None:
            self._http = new_session()
        problems: list[str] = []
        reached = out_of_time = False
        for base in bases:
            url = sesame_url(base, name)
            host = urlsplit(base).netloc
            for attempt in range(settings.sesame_retries + 1):
                delay = settings.sesame_backoff * 2 ** (attempt - 1) if attempt else 0.0
                timeout = settings.sesame_timeout
                if deadline is not None:
                    left = deadline - time.monotonic() - delay
                    if left <= 0.05:
                        out_of_time = True
                        break
                    timeout = min(timeout, left)
                if delay:
                    self._sleep(delay)
                self.requests += 1
                try:
                    data = _download(self._http, url, timeout=timeout, max_bytes=settings.sesame_max_bytes)
                except _Unreachable as exc:
                    problems.append(f"{host}: {exc}")
                    if timeout < settings.sesame_timeout:  # cut short by the deadline: proves nothing
                        out_of_time = True
                    else:
                        self.down[base] = str(exc)
                    break
                except _Transient as exc:
                    reached = True
                    problems.append(f"{host}: {exc}")
                    log.debug("Sesame %s attempt %d for %r: %s", host, attempt + 1, name, exc)
                    continue
                except _Permanent as exc:
                    reached = True
                    problems.append(f"{host}: {exc}")
                    break
                try:
                    return parse_sesame_xml(data, name)
                except SesameError as exc:
                    reached = True
                    problems.append(f"{host}: {str(exc).removeprefix(f'{name}: ')}")
                    break
            if out_of_time:
                break
        detail = "; ".join(problems)
        if out_of_time:
            raise SesameError(f"{name}: Sesame not asked in time ({detail or 'resolver_budget spent'})",
                              "budget")
        if not reached and all(b in self.down for b in bases):
            raise SesameError(f"{name}: Sesame unreachable ({self.unreachable()})", "unreachable")
        raise SesameError(f"{name}: Sesame failed ({detail})")


def fetch_sesame(
    name: str,
    *,
    settings: Settings,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
) -> SesameResult:
    """Ask Sesame about ``name``, trying each URL with retries; SesameError when none answers usefully."""
    with SesameClient(settings, session=session, sleep=sleep) as client:
        return client.fetch(name, deadline=deadline)


def new_session() -> requests.Session:
    """A requests session with hstlc's User-Agent."""
    from hstlc import __version__

    session = requests.Session()
    session.headers["User-Agent"] = f"hstlc/{__version__} (target-name resolver)"
    return session


__all__ = [
    "FailureKind",
    "SesameClient",
    "SesameError",
    "SesameResult",
    "fetch_sesame",
    "new_session",
    "parse_sesame_xml",
    "sesame_bases",
    "sesame_url",
]
