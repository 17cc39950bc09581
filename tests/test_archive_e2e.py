"""End to end: a live crawl keeps its article responses as WARC; ``scrapy crawl
ippen-archive`` imports them, with the mock network stopped, into the same rows."""

from __future__ import annotations

import contextlib
import gzip
import sqlite3
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastwarc.warc as fastwarc
import pytest
from warcio.archiveiterator import ArchiveIterator

from newscrawl.archive.checkpoint import Checkpoints, Position
from newscrawl.archive.reader import read_responses
from newscrawl.archive.records import Exchange, exchange_records
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
from tests.mocknet.client import fetch

# Columns that say when this database saw the story, not what the story is.
WHEN_STORED = {"id", "fetched_at", "first_seen_at", "canonical_declared_at"}
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def archive_import(
    registry: Path, database_url: str, workdir: Path, *args: str, timeout: float = 240
) -> CrawlResult:
    """``scrapy crawl ippen-archive`` with the live crawl's test settings."""
    log_file = workdir / f"import-{len(list(workdir.glob('import-*.log')))}.log"
    command = crawl_command(registry, database_url, workdir, log_file, *args)
    command[command.index("ippen")] = "ippen-archive"
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    return CrawlResult(done.returncode, done.stdout, done.stderr, log)


def responses(path: Path) -> list[tuple[str, int, str]]:
    """(URL, status, WARC-Date) of every response record, read with warcio, digests checked."""
    found = []
    for file in sorted(path.glob("*.warc.gz")) if path.is_dir() else [path]:
        with file.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                if record.rec_type == "response":
                    headers = record.rec_headers
                    found.append((
                        headers.get_header("WARC-Target-URI"),
                        int(record.http_headers.get_statuscode()),
                        headers.get_header("WARC-Date"),
                    ))  # fmt: skip
    return found


def extra_archive(net: MockNetwork, path: Path, live_article: str) -> dict[str, int]:
    """A WARC of what a live crawl never keeps, fetched from the mock; returns the
    skip reasons the import must count for it."""
    fr = net.base_url("fr.de")
    outside = sorted(net.spec.specials.outside_urls)[0]
    picture = fetch(fr + "/bilder/logo.jpg")
    page = fetch(live_article)
    missing = fr + "/politik/gibt-es-nicht-93999999.html"
    pairs = []
    for url, status, body, headers in (
        (outside, *_fetched(outside)),  # another host: other_host
        (missing, *_fetched(missing)),  # a 404: status
        (fr + "/", *_fetched(fr + "/")),  # a listing: not_article
        # an article URL answering with a picture: not_html
        (fr + "/politik/foto-93999998.html", 200, picture.body, [("Content-Type", "image/jpeg")]),
        # the page again, gzip-encoded as sent: decoded on import, an unchanged story
        (live_article, 200, gzip.compress(page.body, mtime=0),
         [("Content-Type", page.headers["Content-Type"]), ("Content-Encoding", "gzip")]),
    ):  # fmt: skip
        pairs.append(exchange_records(Exchange(url, status, body, LATER, headers)))
    html = [("Content-Type", "text/html")]
    cut = exchange_records(Exchange(live_article, 200, page.body, LATER, html))
    path.write_bytes(b"".join(pairs) + cut[: len(cut) // 2])  # the last record cut: truncated
    return {"other_host": 1, "status": 1, "not_article": 1, "not_html": 1, "truncated": 1}


def _fetched(url: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    answer = fetch(url)
    return answer.status, answer.body, list(answer.headers.items())


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A live crawl with NEWSCRAWL_WARC_DIR, an extra WARC, and then the mock stopped."""
    workdir = tmp_path_factory.mktemp("archive")
    warc_dir = workdir / "warc"
    with MockNetwork(6, seed=1, workdir=workdir / "mock") as net:
        live_url = f"sqlite:///{workdir / 'live.db'}"
        live = crawl(net.registry_path, live_url, workdir, "-s", f"NEWSCRAWL_WARC_DIR={warc_dir}")
        served = net.requests()
        some_article = sorted(net.expected_urls)[0]
        extra = workdir / "extra.warc.gz"
        skipped = extra_archive(net, extra, some_article)
        registry = workdir / "registry.toml"
        registry.write_text(net.registry_path.read_text())
    return {
        "workdir": workdir, "warc_dir": warc_dir, "extra": extra, "live": live,
        "live_url": live_url, "served": served, "registry": registry, "skipped": skipped,
        "expected_urls": net.expected_urls,
    }  # fmt: skip


def test_live_crawl_writes_one_response_record_per_fetched_article_page(archived: dict) -> None:
    live = archived["live"]
    assert live.returncode == 0, live.log[-3000:]
    fetched = Counter((r.url, r.status) for r in archived["served"] if article_id(r.url))
    written = Counter((url, status) for url, status, _ in responses(archived["warc_dir"]))
    assert written == fetched
    assert sum(status == 200 for _, status in written) == 33  # 30 stored, binary, empty, + copy
    assert live.stats["newscrawl/warc/records"] == sum(fetched.values())
    assert [p.name.endswith(".warc.gz") for p in archived["warc_dir"].iterdir()] == [True]


def test_fastwarc_reads_the_same_records(archived: dict) -> None:
    (path,) = archived["warc_dir"].iterdir()
    fast = [
        (r.headers.get("WARC-Target-URI"), r.http_headers.status_code)
        for r in fastwarc.ArchiveIterator(str(path), verify_digests=True)
        if r.record_type == fastwarc.WarcRecordType.response
    ]
    assert fast == [(url, status) for url, status, _ in responses(path)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def imported(request: pytest.FixtureRequest, archived: dict) -> tuple[str, CrawlResult]:
    workdir = archived["workdir"] / f"import-{request.param}"
    workdir.mkdir()
    if request.param == "sqlite":
        url = f"sqlite:///{workdir / 'imported.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    warc = f"{archived['warc_dir']},{archived['extra']}"
    return url, archive_import(archived["registry"], url, workdir, "-a", f"warc={warc}")


def test_import_exits_zero_with_a_summary_and_no_request(imported: tuple, archived: dict) -> None:
    _, result = imported
    assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
    assert "Traceback" not in result.log + result.stderr
    assert "downloader/request_count" not in result.stats
    assert "newscrawl summary: new=30 updated=1 unchanged=1 duplicates=0 failed=2" in result.log
    assert "Archive progress: " in result.log


def test_import_stores_the_live_crawls_rows(imported: tuple, archived: dict) -> None:
    url, _ = imported
    live, got = stored_articles(archived["live_url"]), stored_articles(url)
    assert set(got) == set(live) == set(archived["expected_urls"])
    for key, row in got.items():
        assert {k: v for k, v in row.items() if k not in WHEN_STORED} == {
            k: v for k, v in live[key].items() if k not in WHEN_STORED
        }, key
    assert stored_publications(url) == stored_publications(archived["live_url"])


def test_fetch_time_is_the_warc_date(imported: tuple, archived: dict) -> None:
    url, _ = imported
    dates: dict[str, str] = {}
    for record_url, status, date in responses(archived["warc_dir"]):
        if status == 200:
            dates.setdefault(record_url, date)
    rows = stored_articles(url)
    publications = stored_publications(url)
    for publication, canonical in publications.items():
        if publication in dates and canonical == publication:
            fetched = rows[canonical]["fetched_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            assert fetched == dates[publication]


def test_skipped_records_are_counted_by_reason(imported: tuple, archived: dict) -> None:
    _, result = imported
    redirects = sum(status == 301 for _, status, _ in responses(archived["warc_dir"]))
    expected = dict(archived["skipped"])
    expected["status"] += redirects
    stats = result.stats
    got = {
        key.rsplit("/", 1)[1]: int(value)
        for key, value in stats.items()
        if key.startswith("newscrawl/archive/skipped/")
    }
    assert got == expected
    assert stats["newscrawl/archive/skipped"] == sum(expected.values())
    assert stats["newscrawl/archive/articles"] == 33 + 1  # the live crawl's pages + the gzip copy
    assert stats["newscrawl/archive/files"] == 2
    assert stats["newscrawl/extract/failed/binary"] == 1
    assert stats["newscrawl/extract/failed/empty"] == 1


def test_sites_select_portals_by_the_url_fetched(archived: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fr.db'}"
    result = archive_import(archived["registry"], url, tmp_path,
                            "-a", f"warc={archived['warc_dir']}", "-a", "sites=fr.de",
                            "-a", "since=2000-01-01")  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    live = stored_publications(archived["live_url"])
    fr_base = archived["registry"].read_text().split('domain = "fr.de"')[1]
    fr_host = fr_base.split('base_url = "', 1)[1].split('"', 1)[0]
    expected = {canonical for publication, canonical in live.items()
                if publication.startswith(fr_host + "/")}  # fmt: skip
    assert expected and set(stored_articles(url)) == expected
    assert result.stats["newscrawl/archive/skipped/not_selected"] > 0


def test_until_before_every_fetch_imports_nothing(archived: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    warc = f"warc={archived['warc_dir']}"
    result = archive_import(
        archived["registry"], url, tmp_path, "-a", warc, "-a", "until=2000-01-01"
    )
    assert result.returncode == 0, result.log[-3000:]
    assert stored_articles(url) == {}
    assert result.stats["newscrawl/archive/skipped/out_of_window"] == 33


def test_a_finished_import_with_jobdir_is_not_read_again(archived: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'job.db'}"
    args = ("-a", f"warc={archived['warc_dir']}", "-s", f"JOBDIR={tmp_path / 'job'}")
    first = archive_import(archived["registry"], url, tmp_path, *args)
    assert first.returncode == 0, first.log[-3000:]
    assert first.stats["newscrawl/store/new"] == 30
    again = archive_import(archived["registry"], url, tmp_path, *args)
    assert again.returncode == 0, again.log[-3000:]
    assert again.stats["newscrawl/archive/files_done_before"] == 1
    assert "newscrawl/archive/records" not in again.stats
    assert "Already imported (checkpoint): " in again.log


def test_a_path_that_names_no_archive_is_one_error_line(archived: dict, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    result = archive_import(archived["registry"], url, tmp_path, "-a", f"warc={tmp_path}/nope")
    assert result.returncode != 0
    assert result.log.count(f"newscrawl: error: -a warc={tmp_path}/nope: no such file") == 1
    assert "Traceback" not in result.log + result.stderr


def test_a_resumed_import_starts_after_the_checkpoint(archived: dict, tmp_path: Path) -> None:
    (path,) = archived["warc_dir"].iterdir()
    records = list(read_responses(path))
    done = records[:10]
    checkpoints = Checkpoints(tmp_path / "job")
    checkpoints.save({path.resolve(): Position(done[-1].offset, after=True)})
    url = f"sqlite:///{tmp_path / 'resumed.db'}"
    result = archive_import(archived["registry"], url, tmp_path,
                            "-a", f"warc={path}", "-s", f"JOBDIR={tmp_path / 'job'}")  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["newscrawl/archive/records"] == len(records) - 10
    assert result.stats["newscrawl/archive/articles"] == sum(r.status == 200 for r in records[10:])
    last = records[-1].offset
    assert checkpoints.load() == {path.resolve(): Position(last, after=True, done=True)}


def test_an_archived_copy_of_stored_unchanged_stories_writes_nothing(
    archived: dict, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    live_db = archived["live_url"].removeprefix("sqlite:///")
    with (
        contextlib.closing(sqlite3.connect(live_db)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    url = f"sqlite:///{copy}"
    before = stored_articles(url)
    result = archive_import(archived["registry"], url, tmp_path,
                            "-a", f"warc={archived['warc_dir']}")  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    # Every story, the syndicated one included: the store picks the original whatever the
    # order its publications arrive in, so an unchanged copy and original write nothing.
    assert "newscrawl summary: new=0 updated=0 unchanged=31 duplicates=0 failed=2" in result.log

    # The times may move: the archive's WARC-Date is taken when the response arrived, the
    # live crawl's fetch time a little later in the spider, and the store keeps the earliest.
    def content(rows: dict[str, dict]) -> dict[str, dict]:
        return {u: {k: v for k, v in r.items() if k not in WHEN_STORED} for u, r in rows.items()}

    assert content(stored_articles(url)) == content(before)
