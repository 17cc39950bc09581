"""Item dicts → rows: the schema rules an item must meet before it reaches a database.

Checked in Python, not left to the database, so both databases reject the same items
with the same reason, and a bad item never aborts its batch. Reasons (the stats key
suffix ``newscrawl/store/failed/<reason>``): ``missing_url``, ``missing_site``,
``bad_type``, ``bad_date``, ``too_long``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from newscrawl.dates import NETWORK_ZONE, parse_timestamp
from newscrawl.store import dedup
from newscrawl.store.models import MAX_URL_LENGTH

MAX_TEXT_LENGTH = 1_000_000
"""Longest accepted body (characters); anything longer is an extraction accident."""
MAX_FIELD_LENGTH = {
    "title": 2000, "seo_title": 2000, "kicker": 2000, "lead": 20_000, "description": 20_000,
    "image_url": MAX_URL_LENGTH, "image_caption": 20_000, "image_credit": 2000,
    "publisher": 2000, "language": 16, "cms_client_id": 64, "article_id": 32,
    "http_etag": 2000, "http_last_modified": 2000, "external_canonical": MAX_URL_LENGTH,
    "text": MAX_TEXT_LENGTH, "story_type": 64, "extractor_version": 64,
}  # fmt: skip
TEXT_FIELDS = tuple(MAX_FIELD_LENGTH)
LIST_FIELDS = ("authors", "author_urls", "section", "keywords", "entities", "links")
PART_FIELDS = ("boxes", "tables", "ticker")
"""Lists of JSON objects (``newscrawl.items.ArticleItem`` says what each holds)."""
DATE_FIELDS = ("published_at", "modified_at")


class ItemError(ValueError):
    """An item that breaks the schema; ``reason`` is the short stats key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Prepared:
    """A validated item: the ``articles`` row plus what identifies the story."""

    url: str
    site: str
    fetched_url: str
    fetched_site: str
    article_id: str | None
    fetched_at: datetime
    modified_at: datetime | None
    content_hash: str
    row: dict[str, Any] = field(repr=False)
    given_simhash: int | None = None
    """``dedup.fingerprint(text)`` as the extraction worker computed it, if it did."""
    redirected_from: dict[str, str] = field(default_factory=dict)
    """Old-slug URLs that redirected to ``fetched_url``, with their registry domains."""

    @cached_property
    def simhash(self) -> int | None:
        """The body's SimHash: the worker's, else computed on first use (re-crawls of known
        URLs never need it, and computing it here costs ~0.3 ms of the writer's thread)."""
        if self.given_simhash is not None:
            return self.given_simhash
        return dedup.fingerprint(self.row["text"])

    def hashed_row(self) -> dict[str, Any]:
        """The ``articles`` row including the SimHash columns."""
        simhash = self.simhash
        bands = dedup.bands(simhash) if simhash is not None else [None] * dedup.BANDS
        return {
            **self.row,
            "simhash": dedup.to_signed(simhash) if simhash is not None else None,
            **{f"simhash_band{i}": band for i, band in enumerate(bands)},
        }

    def url_sites(self) -> dict[str, str]:
        """Each publication URL of this item with its registry domain (old slugs included)."""
        return {self.url: self.site, self.fetched_url: self.fetched_site, **self.redirected_from}


def _string(item: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise ItemError(f"missing_{name}", f"{name} is missing")
        return None
    if isinstance(value, int) and name == "article_id":
        value = str(value)
    if not isinstance(value, str):
        raise ItemError("bad_type", f"{name} must be a string, not {type(value).__name__}")
    limit = MAX_URL_LENGTH if name in ("url", "fetched_url") else MAX_FIELD_LENGTH.get(name)
    if limit and len(value) > limit:
        raise ItemError("too_long", f"{name} has {len(value)} characters, more than {limit}")
    # PostgreSQL text cannot hold NUL; it is never meaningful in an article.
    return value.replace("\x00", "") if "\x00" in value else value


def _date(item: dict[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):  # the dead-letter file and JSON feeds carry ISO strings
        parsed = parse_timestamp(value)
        if parsed is None:
            raise ItemError("bad_date", f"{name} is not an ISO date: {value[:40]!r}")
        return parsed
    if not isinstance(value, datetime):
        raise ItemError("bad_date", f"{name} must be a datetime, not {type(value).__name__}")
    # The one time rule (newscrawl.dates): no offset is the network's time, Berlin.
    return (value.replace(tzinfo=NETWORK_ZONE) if value.tzinfo is None else value).astimezone(UTC)


def _list(item: dict[str, Any], name: str) -> list[Any]:
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ItemError("bad_type", f"{name} must be a list, not {type(value).__name__}")
    return list(value)


def _typed(item: dict[str, Any], name: str, kind: type) -> Any:
    value = item.get(name)
    if value is not None and (
        not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool)
    ):
        raise ItemError("bad_type", f"{name} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _simhash(item: dict[str, Any]) -> int | None:
    value = item.get("simhash")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << dedup.BITS:
        raise ItemError("bad_type", f"simhash must be an unsigned 64-bit int, not {value!r:.40}")
    return value


def _redirects(item: dict[str, Any]) -> dict[str, str]:
    # Old slugs are publications like any other URL: the same length rule applies.
    redirects: dict[str, str] = {}
    for entry in _list(item, "redirected_from"):
        url = entry.get("url") if isinstance(entry, dict) else None
        site = entry.get("site") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not isinstance(site, str) or not url or not site:
            raise ItemError("bad_type", f"redirected_from entries need url and site: {entry!r:.80}")
        if len(url) > MAX_URL_LENGTH:
            raise ItemError("too_long", f"redirected_from URL has {len(url)} characters")
        redirects[url] = site
    return redirects


def _parts(item: dict[str, Any], name: str) -> list[dict[str, Any]]:
    entries = _list(item, name)
    if not all(isinstance(entry, dict) for entry in entries):
        raise ItemError("bad_type", f"{name} must be a list of objects")
    return entries


def content_hash(
    title: str | None, lead: str | None, text: str | None, parts: str | None = None
) -> str:
    """Equal hash = same visible content; the unit of 'changed'. ``parts``: the words of
    the boxes and tables (ticker entries are in ``text``), joined only when there are
    any, so a story without them keeps the hash it had before the parts existed."""
    fields = (title, lead, text, parts) if parts else (title, lead, text)
    joined = "\x1f".join(part or "" for part in fields)
    return hashlib.sha256(joined.encode()).hexdigest()


def prepare(item: dict[str, Any]) -> Prepared:
    """Validate ``item`` and build its ``articles`` row; raises ``ItemError``."""
    if not isinstance(item, dict):
        raise ItemError("bad_type", f"item must be a dict, not {type(item).__name__}")
    url = _string(item, "url", required=True)
    site = _string(item, "site", required=True)
    assert url is not None and site is not None
    fetched_url = _string(item, "fetched_url") or url
    fetched_site = _string(item, "fetched_site") or site
    row: dict[str, Any] = {name: _string(item, name) for name in TEXT_FIELDS}
    row.update({name: _list(item, name) for name in LIST_FIELDS})
    row.update({name: _parts(item, name) for name in PART_FIELDS})
    # Here, not at the top: the reading commands import this module for its field lists,
    # and newscrawl.extract brings trafilatura (a fifth of a second) with it.
    from newscrawl.extract.parts import parts_text

    try:
        row["parts_text"] = parts_text(row["boxes"], row["tables"]) or None
    except (AttributeError, KeyError, TypeError) as exc:
        raise ItemError("bad_type", f"boxes or tables are malformed: {exc}") from None
    row.update({name: _date(item, name) for name in DATE_FIELDS})
    fetched_at = _date(item, "fetched_at") or datetime.now(UTC)
    row["paywall"] = _typed(item, "paywall", bool)
    row["word_count"] = _typed(item, "word_count", int)
    text = row["text"]
    digest = content_hash(row["title"], row["lead"], text, row["parts_text"])
    row.update(
        url=url,
        site=site,
        fetched_at=fetched_at,
        first_seen_at=fetched_at,
        content_hash=digest,
    )
    return Prepared(
        url=url,
        site=site,
        fetched_url=fetched_url,
        fetched_site=fetched_site,
        article_id=row["article_id"],
        fetched_at=fetched_at,
        modified_at=row["modified_at"],
        content_hash=digest,
        row=row,
        given_simhash=_simhash(item),
        redirected_from=_redirects(item),
    )
