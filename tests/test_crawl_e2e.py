"""End to end: ``scrapy crawl ippen`` over the mock network into each database."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from newscrawl.urls import article_id
from tests.crawling import (
    REPO_ROOT,
    CrawlResult,
    crawl,
    crawl_command,
    stored_articles,
    stored_publications,
)
from tests.mocknet import MockNetwork


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], scope="class")
class TestFullCrawl:
    """One crawl of every portal must store every reachable article once, and nothing else."""

    @pytest.fixture(scope="class")
    @classmethod
    def run(
        cls,
        backend: str,
        mock_network: MockNetwork,
        tmp_path_factory: pytest.TempPathFactory,
        request: pytest.FixtureRequest,
    ) -> tuple[str, CrawlResult, list]:
        workdir = tmp_path_factory.mktemp(f"crawl-{backend}")
        if backend == "sqlite":
            db_url = f"sqlite:///{workdir / 'news.db'}"
        else:
            db_url = request.getfixturevalue("pg_url")
        mock_network.reset_requests()
        result = crawl(mock_network.registry_path, db_url, workdir)
        return db_url, result, mock_network.requests()

    def test_exit_status_zero_and_no_traceback(self, run: tuple) -> None:
        _, result, _ = run
        assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
        assert "Traceback" not in result.log + result.stderr

    def test_stores_exactly_the_reachable_articles(
        self, run: tuple, mock_network: MockNetwork
    ) -> None:
        db_url, _, _ = run
        articles = stored_articles(db_url)
        assert set(articles) == set(mock_network.expected_urls)
        assert len(articles) == len(mock_network.expected_urls) == 30
        ids = [row["article_id"] for row in articles.values()]
        assert sorted(ids) == sorted(mock_network.expected_article_ids)
        for url, row in articles.items():
            assert (
                row["site"]
                == mock_network.spec.portal_by_ip(url.split("/")[2].split(":")[0]).domain
            )
            assert row["title"] == mock_network.article(row["article_id"]).title
            assert len(row["text"].split()) > 50

    def test_syndicated_story_is_one_row_with_both_publications(
        self, run: tuple, mock_network: MockNetwork
    ) -> None:
        db_url, _, _ = run
        specials = mock_network.spec.specials
        publications = stored_publications(db_url)
        assert publications[specials.syndicated_copy] == specials.syndicated_original
        assert publications[specials.syndicated_original] == specials.syndicated_original
        article = stored_articles(db_url)[specials.syndicated_original]
        assert article["site"] == "extratipp.com"
        assert article["article_id"] == specials.syndicated_id

    def test_external_canonical_is_recorded_and_the_fetched_url_kept(
        self, run: tuple, mock_network: MockNetwork
    ) -> None:
        db_url, _, _ = run
        specials = mock_network.spec.specials
        row = stored_articles(db_url)[specials.external_canonical_page]
        assert row["external_canonical"] == specials.external_canonical

    def test_latin1_page_keeps_its_umlauts(self, run: tuple, mock_network: MockNetwork) -> None:
        db_url, _, _ = run
        latin1 = [
            row for row in stored_articles(db_url).values() if row["article_id"] == "93000012"
        ]
        assert [row["title"] for row in latin1] == [mock_network.article("93000012").title]
        assert latin1[0]["title"].startswith("Größte Übung für Münchner Bäcker")

    def test_never_requests_outside_disallowed_or_twice(
        self, run: tuple, mock_network: MockNetwork
    ) -> None:
        _, _, requests = run
        specials = mock_network.spec.specials
        assert [r.url for r in requests if r.ip == "127.0.0.9"] == []
        assert specials.disallowed not in {r.url for r in requests}
        assert not [r for r in requests if r.path.startswith("/intern/")]
        article_fetches = [r.url for r in requests if article_id(r.url)]
        assert len(article_fetches) == len(set(article_fetches))
        # the tracking-parameter link was fetched as the clean URL only
        assert not [r for r in requests if "utm_source" in r.path]

    def test_bad_sources_and_pages_are_counted_and_logged_once(
        self, run: tuple, mock_network: MockNetwork
    ) -> None:
        _, result, _ = run
        specials = mock_network.spec.specials
        stats = result.stats
        assert stats["newscrawl/source/failed/http_404"] == 1
        assert stats["newscrawl/source/failed/invalid_sitemap"] == 1
        assert stats["newscrawl/extract/failed/binary"] == 1
        assert stats["newscrawl/extract/failed/empty"] == 1
        assert result.log.count(f"Source failed (http_404): {specials.broken_feed}") == 1
        outside_host = f"127.0.0.9:{mock_network.port}"
        assert stats[f"newscrawl/outside_links/{outside_host}"] >= 1
        assert "hosts outside the registry (not fetched; a missing portal?): " + outside_host in (
            result.log
        )

    def test_second_run_adds_nothing_and_fetches_no_article(
        self, run: tuple, mock_network: MockNetwork, tmp_path: Path
    ) -> None:
        db_url, _, _ = run
        before = stored_articles(db_url)
        mock_network.reset_requests()
        # since= far back: skipping must come from the store, not from the default window
        # (the mock's articles date from 2024).
        again = crawl(mock_network.registry_path, db_url, tmp_path, "-a", "since=2000-01-01")
        assert again.returncode == 0, again.log[-3000:]
        assert stored_articles(db_url).keys() == before.keys()
        assert [r.url for r in mock_network.requests() if article_id(r.url)] == []


def test_unknown_site_is_a_one_line_error_and_no_crawl(tmp_path: Path) -> None:
    result = crawl(Path("newscrawl/sites.toml"), f"sqlite:///{tmp_path}/news.db", tmp_path,
                   "-a", "sites=fr.de,nope.de")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith(
        "newscrawl: error: unknown site nope.de; known sites: merkur.de,"
    )
    assert result.stderr.count("\n") == 1
    assert "Spider opened" not in result.log
    assert not (tmp_path / "news.db").exists()


# What a standalone crawl into a current store has no use for: the cluster's Redis client
# and queue, Alembic, Scrapy's remote control (aiohttp) and cookie jar (tldextract).
UNUSED_BY_A_STANDALONE_CRAWL = ("alembic", "redis", "scrapy_redis", "aiohttp", "tldextract")


def test_a_standalone_crawl_does_not_import_what_it_does_not_use(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/news.db"
    first = crawl(mock_network.registry_path, database, tmp_path, "-a", "max_articles=1")
    assert first.returncode == 0, first.log[-3000:]  # creates the schema: Alembic's turn
    command = crawl_command(mock_network.registry_path, database, tmp_path,
                            tmp_path / "second.log", "-a", "max_articles=1")  # fmt: skip
    profiled = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False,
                          env=profiled, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}  # fmt: skip
    assert "scrapy.crawler" in imported  # the profile is there to read
    assert sorted(m for m in imported if m.split(".")[0] in UNUSED_BY_A_STANDALONE_CRAWL) == []
