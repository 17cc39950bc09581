"""Two real processes writing the same stories at once never create a second row."""

from __future__ import annotations

import multiprocessing
from typing import Any

from sqlalchemy import Engine, func, select

from newscrawl.store import make_engine, write_batch
from newscrawl.store.models import Article, ArticleUrl
from tests.dbs import synthetic_items

STORIES = 120
BATCH = 20


def _copies(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Syndicated copies: another portal, another id, a dateline and an agency tag."""
    copies = []
    for item in items:
        url = item["url"].replace("fr.de", "hna.de").replace("-zr-1", "-zr-9")
        copies.append(dict(item, url=url, fetched_url=url, site="hna.de", fetched_site="hna.de",
                           article_id="9" + item["article_id"][1:],
                           text="Kassel (dpa) – " + item["text"] + " (dpa)"))  # fmt: skip
    return copies


def _writer(url: str, which: str, start: Any, results: Any) -> None:
    items = synthetic_items(STORIES, seed=3)
    if which == "copies":
        items = _copies(items)
    engine = make_engine(url)
    start.wait(30)
    counts: dict[str, int] = {}
    for offset in range(0, len(items), BATCH):
        for status, n in write_batch(engine, items[offset : offset + BATCH]).counts().items():
            counts[status] = counts.get(status, 0) + n
    results.put((which, counts))


def _run_two_writers(url: str, kinds: tuple[str, str]) -> list[dict[str, int]]:
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_writer, args=(url, k, start, results)) for k in kinds]
    for process in processes:
        process.start()
    start.set()
    outcome = [results.get(timeout=240)[1] for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    return outcome


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        articles = conn.execute(select(func.count()).select_from(Article)).scalar_one()
        urls = conn.execute(select(func.count()).select_from(ArticleUrl)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(ArticleUrl.url)))).scalar_one()
    return articles, urls, distinct


def test_same_items_from_two_processes(db_url: str, db_engine: Engine) -> None:
    outcome = _run_two_writers(db_url, ("originals", "originals"))
    assert _counts(db_engine) == (STORIES, STORIES, STORIES)
    news = [counts["new"] for counts in outcome]
    assert sum(news) == STORIES
    assert sum(counts["unchanged"] for counts in outcome) == STORIES


def test_originals_and_copies_from_two_processes(db_url: str, db_engine: Engine) -> None:
    outcome = _run_two_writers(db_url, ("originals", "copies"))
    assert _counts(db_engine) == (STORIES, 2 * STORIES, 2 * STORIES)
    assert sum(c["new"] for c in outcome) == STORIES
    # A copy that won the race is a new story until its original arrives and takes the
    # row over (updated); else the copy is a duplicate. Either way the row is the original.
    assert sum(c["duplicate"] + c["updated"] for c in outcome) == STORIES
    with db_engine.connect() as conn:
        rows = conn.execute(select(Article.site, Article.article_id)).all()
    assert {site for site, _ in rows} == {"fr.de"}
    assert all(article_id.startswith("1") for _, article_id in rows)
