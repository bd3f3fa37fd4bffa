"""A small client for the MAST Search API of HST (``<mast_url>/search/hst/api/v0.1``).

The same HTTP API ``astroquery.mast.MastMissions(mission='hst')`` calls, spoken directly with requests:

* ``POST …/search`` with a JSON body ``{"conditions": [{column: value}, …], "select_cols": […], "limit": n,
  "offset": k, "sort_by": […]}`` → ``{"results": [{column: value}, …], "totalResults": n}``; a condition
  value is MAST's search syntax (``"COS,STIS"`` is either, ``"<2026-12-07"`` before that date);
* ``POST …/post_list_products`` with ``{"dataset_ids": […]}`` → ``{"products": [{"filename", "dataset",
  "size", …}, …]}``;
* ``GET …/retrieve_product?product_name=<file name>`` → the file (``Range`` requests resume a transfer).

Every request has a timeout (``download_timeout``: for the connection and for each wait for bytes); a
request that fails for a reason a retry can mend (no connection, a timeout, HTTP 5xx or 429) is retried
``download_retries`` times after ``download_backoff`` seconds, doubling. Replies are size-bounded and must be
the JSON documents above; anything else is a :class:`~hstlc.errors.DownloadError` naming the URL and the
problem.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests

from hstlc.config import Settings
from hstlc.errors import DownloadError

log = logging.getLogger(__name__)

API_PATH = "/search/hst/api/v0.1"
#: Largest JSON reply accepted (a page of 500 search rows is about 0.3 MB).
MAX_JSON_BYTES = 64 << 20
#: Search rows asked for per request; dataset ids per product-list request.
PAGE_SIZE = 500
PRODUCT_BATCH = 200
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def new_session(pool: int = 10) -> requests.Session:
    """A requests session with hstlc's User-Agent, keeping up to ``pool`` connections per host open (one
    per parallel transfer)."""
    from hstlc import __version__

    session = requests.Session()
    session.headers["User-Agent"] = f"hstlc/{__version__} (MAST downloads)"
    adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=max(10, pool))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class MastClient:
    """The MAST Search API at ``settings.mast_url``, with the download settings' timeout and retries."""

    def __init__(self, settings: Settings, *, pool: int = 10) -> None:
        self.base = settings.mast_url.rstrip("/") + API_PATH
        self.timeout = settings.download_timeout
        self.retries = settings.download_retries
        self.backoff = settings.download_backoff
        self.session = new_session(pool)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> MastClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests with retries ----------------------------------------------------------------------------

    def retrying(self, what: str, attempt: Callable[[], Any]) -> Any:
        """``attempt()`` until it succeeds or fails for good (a retryable DownloadError is retried)."""
        delay = self.backoff
        for n in range(self.retries + 1):
            try:
                return attempt()
            except DownloadError as exc:
                if not exc.retryable or n == self.retries:
                    raise
                log.info("%s: %s; retrying in %.1f s (%d of %d)", what, exc, delay, n + 1, self.retries)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # the loop returns or raises

    def _post_json(self, service: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = f"{self.base}/{service}"

        def attempt() -> dict[str, Any]:
            try:
                with self.session.post(url, json=dict(body), timeout=self.timeout, stream=True,
                                       headers={"Accept": "application/json"}) as reply:
                    check_status(url, reply)
                    data = read_bounded(url, reply, MAX_JSON_BYTES)
            except requests.RequestException as exc:
                raise DownloadError(f"{url}: {describe(exc)}", retryable=True) from None
            try:
                parsed = json.loads(data)
            except ValueError:
                raise DownloadError(f"{url}: the reply is not JSON ({len(data)} bytes)") from None
            if not isinstance(parsed, dict):
                raise DownloadError(f"{url}: the reply is not a JSON object")
            return parsed

        result: dict[str, Any] = self.retrying(url, attempt)
        return result

    # --- the three services ---------------------------------------------------------------------------------

    def search(
        self, conditions: Sequence[Mapping[str, str]], columns: Sequence[str], *, limit: int = PAGE_SIZE,
        offset: int = 0, sort_by: Sequence[str] = (),
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of datasets: (rows, total number of matches MAST reports, None if it gives none)."""
        body: dict[str, Any] = {
            "conditions": [dict(c) for c in conditions], "select_cols": list(columns), "limit": int(limit),
            "offset": int(offset),
        }
        if sort_by:
            body["sort_by"] = list(sort_by)
            body["sort_desc"] = [False] * len(sort_by)
        reply = self._post_json("search", body)
        rows = reply.get("results")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DownloadError(f"{self.base}/search: the reply has no 'results' list of rows")
        total = reply.get("totalResults")
        return rows, int(total) if isinstance(total, int | float) else None

    def search_all(self, conditions: Sequence[Mapping[str, str]], columns: Sequence[str], *,
                   sort_by: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
        """Every matching dataset, a page at a time (stops at MAST's total, or at a short page)."""
        offset = 0
        while True:
            rows, total = self.search(conditions, columns, limit=PAGE_SIZE, offset=offset, sort_by=sort_by)
            yield from rows
            offset += len(rows)
            if not rows or len(rows) < PAGE_SIZE or (total is not None and offset >= total):
                return

    def products(self, dataset_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The product files of ``dataset_ids`` (asked for :data:`PRODUCT_BATCH` at a time)."""
        out: list[dict[str, Any]] = []
        ids = list(dict.fromkeys(dataset_ids))
        for start in range(0, len(ids), PRODUCT_BATCH):
            reply = self._post_json("post_list_products", {"dataset_ids": ids[start : start + PRODUCT_BATCH]})
            products = reply.get("products")
            if products and isinstance(products, list) and isinstance(products[0], list):
                products = products[0]  # some replies nest the list once
            if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
                raise DownloadError(f"{self.base}/post_list_products: the reply has no 'products' list")
            out.extend(products)
        return out

    def product_url(self, filename: str) -> str:
        return f"{self.base}/retrieve_product?product_name={quote(filename, safe='')}"

    @contextmanager
    def open_product(self, filename: str, *, start: int = 0) -> Iterator[requests.Response]:
        """A streaming GET of a product file, from byte ``start`` (a ``Range`` request) when above 0."""
        url = self.product_url(filename)
        headers = {"Range": f"bytes={start}-"} if start > 0 else {}
        try:
            reply = self.session.get(url, stream=True, timeout=self.timeout, headers=headers)
        except requests.RequestException as exc:
            raise DownloadError(f"{url}: {describe(exc)}", retryable=True) from None
        with reply:
            if reply.status_code == 416 and start > 0:
                yield reply  # nothing more to send: the caller checks what it has
                return
            check_status(url, reply)
            yield reply


def check_status(url: str, reply: requests.Response) -> None:
    """Raise a :class:`DownloadError` for an HTTP error status (retryable for 5xx and 429)."""
    if reply.status_code < 400:
        return
    reason = f"HTTP {reply.status_code} {reply.reason or ''}".strip()
    if reply.status_code in (401, 403):
        reason += " (not public yet, or MAST wants a login)"
    raise DownloadError(f"{url}: {reason}", retryable=reply.status_code in RETRY_STATUS)


def read_bounded(url: str, reply: requests.Response, limit: int) -> bytes:
    """The whole body of ``reply``, refusing more than ``limit`` bytes (a reply is not trusted)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in reply.iter_content(1 << 16):
        size += len(chunk)
        if size > limit:
            raise DownloadError(f"{url}: the reply is larger than {limit} bytes; abandoned")
        chunks.append(chunk)
    return b"".join(chunks)


def describe(exc: BaseException) -> str:
    """A one-line account of a requests failure (no chained tracebacks, no repr noise)."""
    if isinstance(exc, requests.Timeout):
        return "timed out (setting download_timeout)"
    if isinstance(exc, requests.ConnectionError):
        inner = exc.args[0] if exc.args else exc
        text = str(getattr(inner, "reason", inner))
        return f"cannot connect ({text.split(': ', 1)[-1][:160]})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke during the reply"
    return f"{type(exc).__name__}: {str(exc)[:160]}"


__all__ = ["API_PATH", "MastClient", "check_status", "describe", "new_session", "read_bounded"]
