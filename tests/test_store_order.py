"""One answer whatever the order: the same set of items gives the same tables, whatever
their arrival order and batch boundaries, on SQLite and PostgreSQL (newscrawl.store.plan
states the rules). Hypothesis draws the subset of fetches, their order and the batches.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from newscrawl.store import dedup, make_engine, migrate, write_batch
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion
from newscrawl.store.search import RESULT_COLUMNS
from tests.dbs import empty_postgres, make_item, synthetic_texts

STORIES = 3
REPRINT_ID = "9200000"
EXAMPLES = 25
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def _url(site: str, slug: str, article_id: str) -> str:
    return f"https://www.{site}/politik/{slug}-{article_id}.html"


@cache
def network_fetches() -> tuple[dict[str, Any], ...]:
    """Every fetch of a small network, each a distinct item (its own ``fetched_at``).

    Per story: the original on fr.de in two contents (an edit the page dates later),
    the same id on merkur.de declaring the fr.de canonical, the fr.de page reached
    through an old slug, and a syndicated copy under another id on hna.de (a dateline
    and an author line, no canonical). A third story has no edit and no date on its
    page. Each content is fetched twice, in its own hour (an edit replaces the page).
    Last, the first story reprinted eight days later (twice).
    """
    texts = synthetic_texts(STORIES, seed=7)
    fetches: list[dict[str, Any]] = []
    clock = iter(T0 + timedelta(minutes=7 * n) for n in range(1000))
    for n, body in enumerate(texts):
        original_id, copy_id = f"{9300000 + n}", f"{9100000 + n}"
        published = T0 - timedelta(days=n)
        edits = [body, body + " Aktualisiert: Die Polizei nennt neue Zahlen."]
        if n == STORIES - 1:
            edits = edits[:1]
        fr = _url("fr.de", f"meldung-{n}", original_id)
        old = _url("fr.de", f"alte-meldung-{n}", original_id)
        merkur = _url("merkur.de", f"meldung-{n}", original_id)
        copy = _url("hna.de", f"agentur-{n}", copy_id)
        for version, edit in enumerate(edits):
            modified = None if n == STORIES - 1 else published + timedelta(hours=version + 1)
            common = {"article_id": original_id, "text": edit, "title": f"Meldung {n}",
                      "published_at": published, "modified_at": modified}  # fmt: skip
            for _ in range(2):
                fetches += [
                    make_item(**common, url=fr, fetched_url=fr, authors=["Anna Fr"],
                              fetched_at=next(clock)),
                    make_item(**common, url=fr, site="fr.de", fetched_url=merkur,
                              fetched_site="merkur.de", authors=["Max Merkur"],
                              fetched_at=next(clock)),
                    make_item(**common, url=fr, fetched_url=fr, authors=["Anna Fr"],
                              redirected_from=[{"url": old, "site": "fr.de"}],
                              fetched_at=next(clock)),
                    make_item(article_id=copy_id, url=copy, site="hna.de", fetched_url=copy,
                              fetched_site="hna.de", title=f"Agentur {n}",
                              text="Kassel (dpa) – " + edit + " Von Lea Hna (dpa)",
                              authors=["Lea Hna"], published_at=published + timedelta(hours=2),
                              modified_at=None if modified is None else modified
                              + timedelta(hours=2), fetched_at=next(clock)),
                ]  # fmt: skip
    # The first story's text again on tz.de, eight days later, under an id of its own: a
    # story of its own (dedup.near_in_time), whatever batch it shares with the others.
    reprint = _url("tz.de", "nachdruck-0", REPRINT_ID)
    fetches += [
        make_item(article_id=REPRINT_ID, url=reprint, site="tz.de", fetched_url=reprint,
                  fetched_site="tz.de", title="Nachdruck 0", text=texts[0],
                  authors=["Tom Tz"], published_at=T0 + timedelta(days=8),
                  fetched_at=next(clock))
        for _ in range(2)
    ]  # fmt: skip
    for item in fetches:
        item["simhash"] = dedup.fingerprint(item["text"])
    return tuple(fetches)


def test_the_network_meets_the_plans_assumptions() -> None:
    """Copies are near every content of their story, stories are far apart: the
    conditions under which newscrawl.store.plan promises one answer."""
    fetches = network_fetches()
    story = {item["fetched_url"]: item["title"][-1] for item in fetches}
    for a in fetches:
        for b in fetches:
            distance = dedup.distance(a["simhash"], b["simhash"])
            if story[a["fetched_url"]] == story[b["fetched_url"]]:
                assert distance <= dedup.MAX_DISTANCE
            else:
                assert distance > 3 * dedup.MAX_DISTANCE


def snapshot(engine: Engine) -> dict[str, Any]:
    """The tables as data, surrogate ids replaced by the story's URL."""
    columns = [c for c in RESULT_COLUMNS if c.name != "id"]
    with engine.connect() as conn:
        url_of = dict(conn.execute(select(Article.id, Article.url)).all())
        articles = sorted(
            (dict(row._mapping) for row in conn.execute(select(*columns))),
            key=lambda row: row["url"],
        )
        urls = sorted(
            (r.url, r.site, r.article_id, url_of[r.article], r.first_seen_at, r.last_seen_at)
            for r in conn.execute(select(ArticleUrl))
        )
        versions = sorted(
            (url_of[r.article], r.title, r.lead, r.text, r.modified_at or T0, r.content_hash,
             r.fetched_at)
            for r in conn.execute(select(ArticleVersion))
        )  # fmt: skip
    return {"articles": articles, "urls": urls, "versions": versions}


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("article_versions", "article_urls", "articles", "rejected_pages"):
            conn.execute(text(f"DELETE FROM {table}"))


def store(engine: Engine, items: list[dict[str, Any]], cuts: list[int]) -> None:
    start = 0
    for cut in [*sorted(set(cuts)), len(items)]:
        if cut > start:
            write_batch(engine, [dict(item) for item in items[start:cut]])
            start = cut


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """(a subset of the fetches in their natural order, the same shuffled, batch cuts)."""
    fetches = list(network_fetches())
    keep = draw(st.lists(st.booleans(), min_size=len(fetches), max_size=len(fetches)))
    chosen = [item for item, kept in zip(fetches, keep, strict=True) if kept] or fetches[:1]
    shuffled = draw(st.permutations(chosen))
    cuts = draw(st.lists(st.integers(0, len(chosen)), max_size=6))
    return chosen, list(shuffled), cuts


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(case=arrivals())
def test_same_fetches_give_the_same_tables_whatever_the_order(
    db_engine: Engine, case: tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]
) -> None:
    chosen, shuffled, cuts = case
    empty(db_engine)
    store(db_engine, chosen, [])
    expected = snapshot(db_engine)
    empty(db_engine)
    store(db_engine, shuffled, cuts)
    assert snapshot(db_engine) == expected


def test_every_fetch_in_any_order_gives_the_original_rows(db_engine: Engine) -> None:
    """The whole network, one fetch per batch in a shuffled order: one row per story,
    the fr.de original's URL, id, authors and latest text; its edit as the one version;
    every URL a publication of its story; the reprint a story of its own."""
    fetches = list(network_fetches())
    random.Random(5).shuffle(fetches)
    store(db_engine, fetches, list(range(len(fetches))))
    tables = snapshot(db_engine)
    assert [
        (row["url"], row["site"], row["article_id"], row["authors"]) for row in tables["articles"]
    ] == [
        *((_url("fr.de", f"meldung-{n}", f"{9300000 + n}"), "fr.de", f"{9300000 + n}",
           ["Anna Fr"]) for n in range(STORIES)),
        (_url("tz.de", "nachdruck-0", REPRINT_ID), "tz.de", REPRINT_ID, ["Tom Tz"]),
    ]  # fmt: skip
    assert [row["text"].endswith("neue Zahlen.") for row in tables["articles"]] == [
        True, True, False, False,
    ]  # fmt: skip
    assert [v[0] for v in tables["versions"]] == [row["url"] for row in tables["articles"][:2]]
    assert len(tables["urls"]) == 4 * STORIES + 1
    first_fetch = {row["url"]: row["first_seen_at"] for row in tables["articles"]}
    assert all(first_fetch[u[3]] <= u[4] for u in tables["urls"])


def test_sqlite_and_postgresql_store_the_same_tables(pg_url: str, tmp_path: Any) -> None:
    empty_postgres(pg_url)
    fetches = list(network_fetches())
    random.Random(9).shuffle(fetches)
    snapshots = []
    for url in (f"sqlite:///{tmp_path}/news.db", pg_url):
        engine = make_engine(url)
        migrate(engine)
        store(engine, fetches, list(range(0, len(fetches), 5)))
        snapshots.append(snapshot(engine))
        engine.dispose()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["articles"]) == STORIES + 1
