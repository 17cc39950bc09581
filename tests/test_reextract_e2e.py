"""End to end: ``python -m newscrawl.store reextract`` over a live crawl's own WARC files
restores damaged extracted fields in place, reports exactly what it changed, and adds no
version; a second run changes nothing. Both databases, the mock network stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from newscrawl.archive.records import Exchange, exchange_records
from newscrawl.extract import EXTRACTOR_VERSION
from newscrawl.store import make_engine, search
from newscrawl.store.models import Article, ArticleVersion
from tests.crawling import REPO_ROOT, crawl, stored_articles
from tests.mocknet import MockNetwork
from tests.mocknet.client import fetch

LATER = datetime(2030, 1, 1, tzinfo=UTC)
WRONG = "Falschwort"
"""Put into a later fetch of one story: re-extraction must not take that fetch."""


def run_reextract(registry: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "newscrawl.store", "reextract", "--database", database_url]
    env = {**os.environ, "NEWSCRAWL_SITES": str(registry)}
    return subprocess.run(
        [*command, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240,
        check=False,
    )  # fmt: skip


def versions(database_url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(ArticleVersion.__table__).order_by(ArticleVersion.id))
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def crawled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A live crawl with NEWSCRAWL_WARC_DIR, a later fetch of one story with other words
    in a second WARC file, and then the mock stopped."""
    workdir = tmp_path_factory.mktemp(f"reextract-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'live.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    warc_dir = workdir / "warc"
    with MockNetwork(6, seed=1, workdir=workdir / "mock") as net:
        live = crawl(net.registry_path, url, workdir, "-s", f"NEWSCRAWL_WARC_DIR={warc_dir}")
        assert live.returncode == 0, live.log[-3000:]
        rows = stored_articles(url)
        edited = sorted(rows)[1]
        word = next(w for w in rows[edited]["text"].split() if w.isalpha() and len(w) > 6)
        page = fetch(edited)
        assert word.encode() in page.body
        body = page.body.replace(word.encode(), WRONG.encode())
        headers = [("Content-Type", page.headers["Content-Type"])]
        later = workdir / "later.warc.gz"
        later.write_bytes(exchange_records(Exchange(edited, 200, body, LATER, headers)))
        registry = workdir / "registry.toml"
        registry.write_text(net.registry_path.read_text())
    return {
        "url": url, "registry": registry, "warc": f"{warc_dir},{later}", "rows": rows,
        "edited": edited, "word": word,
    }  # fmt: skip


def damage(database_url: str, rows: dict[str, dict]) -> dict[str, str]:
    """Truncate one story's text, empty another's authors, age a third's extractor."""
    with_authors = [url for url in sorted(rows) if rows[url]["authors"]]
    text_url, authors_url = sorted(rows)[0], with_authors[-1]
    old_url = next(url for url in sorted(rows) if url not in (text_url, authors_url))
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            for url, values in (
                (text_url, {"text": rows[text_url]["text"][:40]}),
                (authors_url, {"authors": []}),
                (old_url, {"extractor_version": "2020.1.1"}),
            ):
                conn.execute(update(Article).where(Article.url == url).values(**values))
    finally:
        engine.dispose()
    return {"text": text_url, "authors": authors_url, "extractor_version": old_url}


def test_reextract_restores_the_live_crawls_rows_in_place(crawled: dict) -> None:
    url, rows = crawled["url"], crawled["rows"]
    before_versions = versions(url)
    damaged = damage(url, rows)
    lost_word = rows[damaged["text"]]["text"].split()[-1].strip(".,;:!?\"'")

    done = run_reextract(crawled["registry"], url, "--warc", crawled["warc"])

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    stories = len(rows)
    assert done.stdout.splitlines() == [
        f"re-extracted {stories} of {stories} stories (0 without an archived page)",
        "rows changed: 3 (authors 1, extractor_version 1, text 1)",
    ]
    assert stored_articles(url) == rows  # every column, the derived ones included
    assert {row["extractor_version"] for row in rows.values()} == {EXTRACTOR_VERSION}
    assert WRONG not in stored_articles(url)[crawled["edited"]]["text"]
    assert versions(url) == before_versions
    engine = make_engine(url)
    try:  # the search index follows the restored text (PostgreSQL: rebuilt after the write)
        assert damaged["text"] in [hit["url"] for hit in search(engine, lost_word, limit=100)]
    finally:
        engine.dispose()

    again = run_reextract(crawled["registry"], url, "--warc", crawled["warc"])

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == "rows changed: 0"
    assert stored_articles(url) == rows
    assert versions(url) == before_versions


def test_site_and_since_select_the_stories(crawled: dict) -> None:
    url, rows = crawled["url"], crawled["rows"]
    site = rows[sorted(rows)[0]]["site"]
    on_site = sum(row["site"] == site for row in rows.values())
    done = run_reextract(crawled["registry"], url, "--warc", crawled["warc"], "--site", site)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"re-extracted {on_site} of {on_site} stories (0 without an archived page)",
        "rows changed: 0",
    ]
    warc = crawled["warc"]
    later = run_reextract(crawled["registry"], url, "--warc", warc, "--since", "2029-01-01")
    assert later.stdout.splitlines() == [
        "re-extracted 0 of 0 stories (0 without an archived page)",
        "rows changed: 0",
    ]


def test_bad_arguments_are_one_line_errors(crawled: dict, tmp_path: Path) -> None:
    url, registry = crawled["url"], crawled["registry"]
    for args, message in (
        (["--warc", str(tmp_path / "missing")], f"error: --warc {tmp_path / 'missing'}: no such "
         "file or folder"),
        (["--warc", str(tmp_path)], f"error: --warc {tmp_path}: the folder holds no .warc or "
         ".warc.gz file"),
        (["--warc", crawled["warc"], "--site", "example.org"],
         "error: --site example.org: not a portal of the registry"),
        (["--warc", crawled["warc"], "--since", "soon"],
         "error: since='soon' is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"),
    ):  # fmt: skip
        done = run_reextract(registry, url, *args)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")
