"""Old slugs as publications, precomputed SimHashes, and remembered rejected pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from newscrawl.store import dedup, write_batch
from newscrawl.store.models import Article, ArticleUrl, RejectedPage
from newscrawl.store.rejected import page_from, reason_of
from tests.dbs import FETCHED_AT, fixture_paragraphs, make_item

OLD_SLUG = "https://www.fr.de/ratgeber/ambrosia-alt-93036630.html"
BINARY = "https://www.extratipp.com/service/kaputt-93000010.html"


def _urls(engine: Engine) -> dict[str, tuple[int, str, Any, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(ArticleUrl))
        return {r.url: (r.article, r.site, r.first_seen_at, r.last_seen_at) for r in rows}


def _rejected(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(RejectedPage))
        return {
            r.url: (r.site, r.reason, r.times, r.first_seen_at, r.last_seen_at, r.http_etag)
            for r in rows
        }


def test_old_slugs_are_publications_of_the_story(db_engine: Engine) -> None:
    item = make_item(redirected_from=[{"url": OLD_SLUG, "site": "fr.de"}])
    result = write_batch(db_engine, [item])
    story = result.outcomes[0].article
    assert _urls(db_engine) == {
        item["url"]: (story, "fr.de", FETCHED_AT, FETCHED_AT),
        OLD_SLUG: (story, "fr.de", FETCHED_AT, FETCHED_AT),
    }
    # The next run follows the old slug again: same story, its last_seen_at moves on.
    later = FETCHED_AT + timedelta(hours=5)
    again = write_batch(
        db_engine,
        [make_item(fetched_at=later, redirected_from=[{"url": OLD_SLUG, "site": "fr.de"}])],
    )
    assert [(o.status, o.article) for o in again.outcomes] == [("unchanged", story)]
    assert _urls(db_engine)[OLD_SLUG] == (story, "fr.de", FETCHED_AT, later)


def test_a_known_old_slug_identifies_the_story(db_engine: Engine) -> None:
    write_batch(db_engine, [make_item(redirected_from=[{"url": OLD_SLUG, "site": "fr.de"}])])
    # The story moved to a new slug and a new id; only the old slug links it to the row.
    moved_url = "https://www.fr.de/ratgeber/ambrosia-neu-99999999.html"
    moved = make_item(
        article_id="99999999", url=moved_url, fetched_url=moved_url, text="Kurz.",
        redirected_from=[{"url": OLD_SLUG, "site": "fr.de"}],
    )  # fmt: skip
    result = write_batch(db_engine, [moved])
    assert result.outcomes[0].status == "duplicate"
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Article)).scalar_one() == 1


@pytest.mark.parametrize(
    ("redirects", "reason"),
    [
        ([{"url": OLD_SLUG}], "bad_type"),
        ("https://x", "bad_type"),
        ([{"url": "https://www.fr.de/" + "a" * 2100, "site": "fr.de"}], "too_long"),
    ],
)
def test_bad_redirect_lists_fail_the_item(db_engine: Engine, redirects: Any, reason: str) -> None:
    result = write_batch(db_engine, [make_item(redirected_from=redirects)])
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", reason)]


def test_precomputed_simhash_is_used_as_given(db_engine: Engine) -> None:
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs))
    assert write_batch(db_engine, [original]).new == 1
    # A different text whose worker-given hash is 3 bits from the stored one: the store
    # trusts the worker, so it is a syndicated copy, not a new story.
    near = dedup.simhash("\n".join(paragraphs)) ^ 0b10101
    url = "https://www.hna.de/politik/andere-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=url, fetched_url=url,
        text="\n".join(fixture_paragraphs()["musk"]), simhash=near,
    )  # fmt: skip
    assert write_batch(db_engine, [copy]).outcomes[0].status == "duplicate"
    # Without the given hash the same text is a new story.
    other = url.replace("91234567", "91234568")
    bare = dict(copy, simhash=None, article_id="91234568", url=other, fetched_url=other)
    assert write_batch(db_engine, [bare]).outcomes[0].status == "new"
    with db_engine.connect() as conn:
        stored = conn.execute(select(Article.simhash).order_by(Article.id)).scalars().all()
    assert [dedup.from_signed(v) for v in stored] == [
        dedup.fingerprint(original["text"]), dedup.fingerprint(copy["text"]),
    ]  # fmt: skip


@pytest.mark.parametrize("value", [-1, 1 << 64, "123", 1.5, True])
def test_bad_simhash_fails_the_item(db_engine: Engine, value: Any) -> None:
    result = write_batch(db_engine, [make_item(simhash=value)])
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", "bad_type")]


def _page(url: str = BINARY, reason: str = "binary", hours: int = 0, etag: str = '"a"') -> dict:
    return {
        "url": url, "site": "extratipp.com", "reason": reason, "http_etag": etag,
        "fetched_at": FETCHED_AT + timedelta(hours=hours), "http_last_modified": None,
    }  # fmt: skip


def test_rejected_pages_are_counted_and_keep_the_latest_fetch(db_engine: Engine) -> None:
    result = write_batch(db_engine, [], [_page(hours=2), _page(hours=1, reason="empty")])
    assert result.rejected == 1 and result.outcomes == []
    first, second = FETCHED_AT + timedelta(hours=1), FETCHED_AT + timedelta(hours=2)
    assert _rejected(db_engine) == {BINARY: ("extratipp.com", "binary", 2, first, second, '"a"')}
    # Later rejections add up; a late report of an older fetch does not move the latest.
    write_batch(db_engine, [], [_page(hours=5, reason="too_short", etag='"b"')])
    write_batch(db_engine, [], [_page(hours=0, reason="empty", etag='"old"')])
    latest = FETCHED_AT + timedelta(hours=5)
    assert _rejected(db_engine) == {
        BINARY: ("extratipp.com", "too_short", 4, FETCHED_AT, latest, '"b"'),
    }


def test_a_rejected_url_stored_later_is_forgotten(db_engine: Engine) -> None:
    item = make_item()
    slug_page = _page(url=OLD_SLUG, reason="empty")
    write_batch(db_engine, [], [_page(), _page(url=item["url"]), slug_page])
    assert set(_rejected(db_engine)) == {BINARY, item["url"], OLD_SLUG}
    stored = dict(item, redirected_from=[{"url": OLD_SLUG, "site": "fr.de"}])
    result = write_batch(db_engine, [stored, make_item(url=None)], [_page(hours=3)])
    assert [o.status for o in result.outcomes] == ["new", "failed"]
    assert set(_rejected(db_engine)) == {BINARY}


def test_dropped_items_become_pages() -> None:
    item = make_item(http_etag='"e"')
    message = f"nothing to extract (binary): {item['fetched_url']}"
    assert page_from(item, message) == {
        "url": item["fetched_url"], "site": "fr.de", "reason": "binary",
        "fetched_at": FETCHED_AT, "http_etag": '"e"', "http_last_modified": None,
    }  # fmt: skip
    assert reason_of("not an article (too_short): https://www.fr.de/a-1.html") == "too_short"
    assert reason_of("duplicate page: https://www.fr.de/a-1.html") == "duplicate page"
    assert page_from({"fetched_url": None, "url": None}, "x") is None
