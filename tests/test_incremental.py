"""Cron-ready runs: only what is new is fetched, changes become versions, runs resume."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from newscrawl.store import make_engine
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion, CrawlRun
from newscrawl.urls import article_id
from tests.crawling import REPO_ROOT, crawl, crawl_command, stored_articles
from tests.mocknet import MockNetwork

# The mock's articles date from 2024; the default window (72 h back from now) would
# skip them all by date, so runs that must reach them name a window that includes them.
SINCE_2024 = ("-a", "since=2024-01-01")


def article_requests(net: MockNetwork) -> list[str]:
    return [r.url for r in net.requests() if article_id(r.url)]


def test_unchanged_network_costs_no_article_request_and_a_change_costs_one(
    mock_network_factory, db_url: str, tmp_path: Path
) -> None:
    database = db_url
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=3)
    first = crawl(net.registry_path, database, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    stored = stored_articles(database)
    assert set(stored) == set(net.expected_urls)

    # Second run, default window: nothing new, so no article page is requested.
    net.reset_requests()
    second = crawl(net.registry_path, database, tmp_path)
    assert second.returncode == 0, second.log[-3000:]
    assert article_requests(net) == []
    assert second.stats["newscrawl/incremental/skipped/older_than_since"] > 0

    # Third run with a window that includes every entry: the store alone must skip them.
    net.reset_requests()
    third = crawl(net.registry_path, database, tmp_path, *SINCE_2024)
    assert third.returncode == 0, third.log[-3000:]
    assert article_requests(net) == []
    assert third.stats["newscrawl/incremental/skipped/already_stored"] > 0
    assert "newscrawl/store/new" not in third.stats

    # One article changes: the next run fetches that article alone, as a new version.
    changed = net.spec.regular_meta("merkur.de", 2)
    new_text = "Die Lage hat sich grundlegend geändert, berichtet die Redaktion am Abend.\n\n" * 8
    net.update_article(changed.article_id, new_text=new_text.strip(), bump_lastmod=True)
    net.reset_requests()
    fourth = crawl(net.registry_path, database, tmp_path, *SINCE_2024)
    assert fourth.returncode == 0, fourth.log[-3000:]
    assert article_requests(net) == [changed.url]
    assert fourth.stats["newscrawl/store/updated"] == 1
    after = stored_articles(database)
    assert after.keys() == stored.keys()
    assert after[changed.url]["text"].startswith("Die Lage hat sich grundlegend geändert")
    assert after[changed.url]["text"] != stored[changed.url]["text"]
    engine = make_engine(database)
    with engine.connect() as connection:
        versions = connection.execute(
            select(ArticleVersion.text).where(ArticleVersion.article == after[changed.url]["id"])
        ).all()
        total_versions = connection.execute(
            select(func.count()).select_from(ArticleVersion)
        ).scalar_one()
    engine.dispose()
    assert [row.text for row in versions] == [stored[changed.url]["text"]]
    assert total_versions == 1


def test_refetch_is_conditional_and_304_means_unchanged(
    mock_network_factory, tmp_path: Path
) -> None:
    """A source dating an article later than the stored copy: asked with the stored
    validators, the unchanged page answers 304 and nothing is written."""
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=4)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    assert crawl(net.registry_path, database, tmp_path).returncode == 0
    target = net.spec.regular_meta("fr.de", 1)
    engine = make_engine(database)
    older = stored_articles(database)[target.url]["modified_at"] - timedelta(days=1)
    with engine.begin() as connection:  # the store believes its copy is a day older
        connection.execute(
            update(Article).where(Article.url == target.url).values(modified_at=older)
        )
    engine.dispose()
    net.reset_requests()
    run = crawl(net.registry_path, database, tmp_path, *SINCE_2024)
    assert run.returncode == 0, run.log[-3000:]
    fetched = [r for r in net.requests() if article_id(r.url)]
    assert [(r.url, r.status) for r in fetched] == [(target.url, 304)]
    assert fetched[0].headers["If-None-Match"] == stored_articles(database)[target.url]["http_etag"]
    assert run.stats["newscrawl/incremental/not_modified"] == 1
    assert "newscrawl/store/updated" not in run.stats


def test_since_skips_older_entries_on_an_empty_store(mock_network_factory, tmp_path: Path) -> None:
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=5)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    run = crawl(net.registry_path, database, tmp_path, "-a", "since=2030-01-01")
    assert run.returncode == 0, run.log[-3000:]
    dated = {r.url for r in net.requests() if article_id(r.url)}
    # Only articles linked without a date (home and section pages, bodies) are fetched.
    assert run.stats["newscrawl/incremental/skipped/older_than_since"] > 0
    assert not any("archive" in r.path for r in net.requests())
    assert len(dated) < len(net.expected_urls)


def test_killed_crawl_resumes_from_jobdir_without_refetching(
    mock_network_factory, tmp_path: Path
) -> None:
    net: MockNetwork = mock_network_factory(articles_per_portal=12, seed=6)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    jobdir = tmp_path / "job"
    slow = ("-s", f"JOBDIR={jobdir}", "-s", "DOWNLOAD_DELAY=0.3",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")  # fmt: skip
    log = tmp_path / "interrupted.log"
    command = crawl_command(net.registry_path, database, tmp_path, log, *slow)
    first = subprocess.Popen(command, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(article_requests(net)) < 15:
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy stops and keeps its queue in JOBDIR
    assert first.wait(timeout=90) == 1  # interrupted is not success
    interrupted = log.read_text(encoding="utf-8")
    assert "finish_reason=shutdown" in interrupted
    assert "Traceback" not in interrupted  # the extraction pool shut down in order
    stored_before = stored_articles(database)
    assert 0 < len(stored_before) < len(net.expected_urls)
    requested_before = article_requests(net)

    net.reset_requests()
    resumed = crawl(net.registry_path, database, tmp_path, *slow[:2], *SINCE_2024)
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert set(stored_articles(database)) == set(net.expected_urls)
    requested_after = article_requests(net)
    assert not set(requested_before) & set(requested_after)
    assert len(requested_after) == len(set(requested_after))


def test_a_redirect_to_a_stored_story_is_not_followed(mock_network_factory, tmp_path: Path) -> None:
    """An old slug the store does not know yet answers 301 with a URL it does know:
    the target passes the incremental policy before Scrapy's RedirectMiddleware would
    fetch it, and is not fetched."""
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=3)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    assert crawl(net.registry_path, database, tmp_path).returncode == 0
    old, new = net.spec.specials.redirect_old, net.spec.specials.redirect_new
    engine = make_engine(database)
    with engine.begin() as connection:  # as if the old slug had never been seen
        connection.execute(delete(ArticleUrl).where(ArticleUrl.url == old))
    engine.dispose()
    net.reset_requests()
    again = crawl(net.registry_path, database, tmp_path, *SINCE_2024)
    assert again.returncode == 0, again.log[-3000:]
    assert article_requests(net) == [old]
    assert again.stats["newscrawl/incremental/skipped/redirect_stored"] == 1
    assert new in stored_articles(database)


def test_a_redirect_to_a_story_its_source_dates_later_is_fetched_conditionally(
    mock_network_factory, tmp_path: Path
) -> None:
    """As above, but the store believes its copy of the target is a day older than the
    old slug's source says: the redirect is followed with the stored validators, the
    unchanged page answers 304, and that one re-fetch is counted once. (The second run
    reads the sources only: merkur's home page also links the old slug, undated, and
    whichever request for it came first would decide.)"""
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=3)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    assert crawl(net.registry_path, database, tmp_path).returncode == 0
    sources_only = tmp_path / "sources-only.toml"
    sources_only.write_text(
        re.sub(r"start_pages = \[[^\]]*\]", "start_pages = []", net.registry_path.read_text()),
        encoding="utf-8",
    )
    old, new = net.spec.specials.redirect_old, net.spec.specials.redirect_new
    stored = stored_articles(database)[new]
    engine = make_engine(database)
    with engine.begin() as connection:
        connection.execute(delete(ArticleUrl).where(ArticleUrl.url == old))
        connection.execute(
            update(Article).where(Article.url == new)
            .values(modified_at=stored["modified_at"] - timedelta(days=1))
        )  # fmt: skip
    engine.dispose()
    net.reset_requests()
    again = crawl(sources_only, database, tmp_path, *SINCE_2024)
    assert again.returncode == 0, again.log[-3000:]
    fetched = [r for r in net.requests() if article_id(r.url)]
    assert [(r.url, r.status) for r in fetched] == [(old, 301), (new, 304)]
    assert fetched[1].headers["If-None-Match"] == stored["http_etag"]
    assert again.stats["newscrawl/incremental/refetch"] == 1
    assert again.stats["newscrawl/incremental/not_modified"] == 1
    assert "newscrawl/store/updated" not in again.stats


def test_a_rerun_of_an_interrupted_backfill_follows_the_links_of_stored_stories(
    mock_network_factory, tmp_path: Path
) -> None:
    """A backfill stopped after it stored the one story that links an article, and run
    again without JOBDIR: the stored story is not fetched again, its body links are read
    from the store, and the article only it links to is fetched and stored."""
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=3)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    assert crawl(net.registry_path, database, tmp_path).returncode == 0
    only = net.spec.specials.body_link_only
    engine = make_engine(database)
    with engine.begin() as connection:  # as if the run had stopped before it got there
        story = connection.execute(select(Article.id).where(Article.url == only)).scalar_one()
        connection.execute(delete(ArticleUrl).where(ArticleUrl.article == story))
        connection.execute(delete(ArticleVersion).where(ArticleVersion.article == story))
        connection.execute(delete(Article).where(Article.id == story))
        connection.execute(update(CrawlRun).values(status="interrupted"))
    engine.dispose()
    net.reset_requests()
    again = crawl(net.registry_path, database, tmp_path)
    assert again.returncode == 0, again.log[-3000:]
    assert article_requests(net) == [only]
    assert only in stored_articles(database)
    assert again.stats["newscrawl/store/new"] == 1
    assert again.stats["newscrawl/incremental/stored_links_followed"] > 0
