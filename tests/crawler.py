"""A bounded same-site crawler for the Django test client, and canary counting.

Used by the anonymity sweep (``tests/test_anonymity_sweep.py``, A1): it fetches pages with
GET only, follows ``href``/``src``/``hx-get`` links and GET-form actions, fetches every page
a second time as an htmx request (``HX-Request: true``), and keeps every response (body and
headers) so a test can search all of them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from django.test import Client

# Never fetched: they end the session, or they are not pages of the app.
SKIP_PARTS = ("logout", "/static/", "/media/")
# Pagination parameters: the pages of one list are one group (see ``group_key``).
PAGE_PARAMS = {"page", "p"}
ADMIN_PREFIX = "/admin/"

_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[\w-]{20,})$"
)


class _Links(HTMLParser):
    """The URLs a browser could GET from a page: links, sources, htmx GETs, GET forms."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src", "hx-get", "data-hx-get"):
            if values.get(name):
                self.urls.append(values[name] or "")
        if tag == "form" and (values.get("method") or "get").lower() == "get":
            self.urls.append(values.get("action") or "")


@dataclass
class Fetched:
    url: str
    htmx: bool
    status: int
    content_type: str
    body: str
    headers: str


@dataclass
class Crawler:
    client: Client
    max_pages: int = 600
    extra_skip: tuple[str, ...] = ()
    pages: list[Fetched] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    truncated: bool = False

    def _allowed(self, url: str) -> bool:
        if any(part in url for part in (*SKIP_PARTS, *self.extra_skip)):
            return False
        parts = urlsplit(url)
        if parts.path.startswith(ADMIN_PREFIX):
            # The admin's sort and filter links only re-order the objects its changelists
            # and object pages already show: follow its pages, not every combination.
            keys = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
            return keys <= PAGE_PARAMS
        return True

    def _normal(self, base: str, link: str) -> str | None:
        link = link.strip()
        if not link or link.startswith(("#", "mailto:", "javascript:", "data:", "tel:")):
            return None
        parts = urlsplit(urljoin(base, link))
        if parts.netloc not in ("", "testserver") or parts.scheme not in ("", "http"):
            return None
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return parts.path + (f"?{query}" if query else "")

    def _get(self, url: str, htmx: bool) -> Fetched:
        extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = self.client.get(url, **extra)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content).decode("utf-8", "replace")
        else:
            body = response.content.decode("utf-8", "replace")
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        # Cookies the response sets are headers too.
        headers += "\n" + response.cookies.output()
        page = Fetched(
            url, htmx, response.status_code, response.get("Content-Type", ""), body, headers
        )
        self.pages.append(page)
        return page

    def crawl(self, seeds: Iterable[str]) -> list[Fetched]:
        queue: deque[str] = deque()
        for seed in seeds:
            url = self._normal("/", seed)
            if url and url not in self.seen and self._allowed(url):
                self.seen.add(url)
                queue.append(url)
        while queue:
            if len(self.pages) >= self.max_pages:
                self.truncated = True
                break
            url = queue.popleft()
            page = self._get(url, htmx=False)
            if 300 <= page.status < 400:
                location = dict(
                    line.split(": ", 1) for line in page.headers.splitlines() if ": " in line
                ).get("Location", "")
                links = [location]
            elif page.status == 200 and "html" in page.content_type:
                parser = _Links()
                parser.feed(page.body)
                links = parser.urls
                if not url.startswith(ADMIN_PREFIX):
                    # The same page as htmx asks for it: views answer with their partials.
                    self._get(url, htmx=True)
            else:
                links = []
            for link in links:
                found = self._normal(url, link)
                if found and found not in self.seen and self._allowed(found):
                    self.seen.add(found)
                    queue.append(found)
        return self.pages


def group_key(url: str) -> str:
    """The URL with object ids in its path replaced and its pagination dropped: the pages
    of one list, or the same page of every object of a kind, form one group."""
    parts = urlsplit(url)
    path = "/".join("<id>" if _ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = urlencode(sorted((k, v) for k, v in query if k not in PAGE_PARAMS))
    return path + (f"?{kept}" if kept else "")
