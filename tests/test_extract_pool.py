"""Extraction in the crawl process (the default) and in a pool of real worker processes:
the same items either way, crashes of a worker survived."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector

from newscrawl.extract import extract_article
from newscrawl.items import ArticleItem
from newscrawl.network import Network
from newscrawl.pipelines.extract import ExtractPipeline, extract_in_worker
from newscrawl.store.dedup import fingerprint
from tests.extract_fixtures import AMBROSIA_2024, AMBROSIA_URL, MUSK_2021, MUSK_URL


def crash_once(html: str, url: str, encoding: str | None = None) -> tuple[bool, Any]:
    """Kills its worker the first time it sees a page marked ``#crash=<file>``, then extracts.

    The marker travels in the URL: workers come from a fork server started before
    the test, so neither an environment variable nor a global would reach them.
    """
    page, _, marker = url.partition("#crash=")
    if marker and not Path(marker).exists():
        Path(marker).write_text("crashed")
        os._exit(1)
    return extract_in_worker(html, page, encoding)


def report_niceness(html: str, url: str, encoding: str | None = None) -> tuple[bool, Any]:
    return True, {"title": str(os.nice(0))}


def crash_always(html: str, url: str, encoding: str | None = None) -> tuple[bool, Any]:
    os._exit(1)


class Stats(MemoryStatsCollector):
    def __init__(self) -> None:
        self._stats: dict[str, Any] = {}


def make_pipeline(
    function: Any = None, workers: int = 2, niceness: int = 0
) -> tuple[ExtractPipeline, Stats]:
    stats = Stats()
    pipeline = ExtractPipeline(workers, Network.load(), stats, niceness)
    if function is not None:
        pipeline.extract_function = function  # type: ignore[method-assign]
    pipeline.open_spider()
    return pipeline, stats


def item(path: Path, url: str) -> ArticleItem:
    return ArticleItem(
        url=url, site="fr.de", fetched_url=url, fetched_site="fr.de", article_id=None,
        fetched_at=datetime.now(UTC), html=path.read_text(encoding="utf-8"),
    )  # fmt: skip


async def process_all(pipeline: ExtractPipeline, items: list[ArticleItem]) -> list[Any]:
    return await asyncio.gather(*(pipeline.process_item(i) for i in items), return_exceptions=True)


def test_pool_gives_every_item_the_fields_an_inline_extraction_gives() -> None:
    pipeline, stats = make_pipeline()
    pages = [(AMBROSIA_2024, AMBROSIA_URL), (MUSK_2021, MUSK_URL)] * 10
    try:
        results = asyncio.run(process_all(pipeline, [item(p, u) for p, u in pages]))
    finally:
        pipeline.close_spider()
    assert len(results) == 20
    for result, (path, url) in zip(results, pages, strict=True):
        expected = extract_article(path.read_text(encoding="utf-8"), url)
        assert result.text == expected["text"] and result.title == expected["title"]
        assert result.authors == expected["authors"] and result.html is None
        assert isinstance(result.simhash, int)
    assert stats.get_value("newscrawl/extract/ok") == 20
    assert pipeline._pool is None  # shut down


def test_in_the_crawl_process_every_item_gets_the_fields_and_no_process_starts() -> None:
    before = multiprocessing.active_children()
    pipeline, stats = make_pipeline(workers=0)
    pages = [(AMBROSIA_2024, AMBROSIA_URL), (MUSK_2021, MUSK_URL)]
    try:
        assert pipeline._pool is None and multiprocessing.active_children() == before
        results = asyncio.run(process_all(pipeline, [item(p, u) for p, u in pages]))
    finally:
        pipeline.close_spider()
    for result, (path, url) in zip(results, pages, strict=True):
        expected = extract_article(path.read_text(encoding="utf-8"), url)
        assert (result.text, result.title) == (expected["text"], expected["title"])
        assert result.html is None and result.simhash == fingerprint(expected["text"])
    assert stats.get_value("newscrawl/extract/ok") == 2


def test_in_the_crawl_process_a_bad_page_is_dropped_with_its_reason() -> None:
    pipeline, stats = make_pipeline(workers=0)
    bad = item(MUSK_2021, MUSK_URL)
    bad.html = b""
    (result,) = asyncio.run(process_all(pipeline, [bad]))
    assert str(result) == f"nothing to extract (empty): {MUSK_URL}"
    assert stats.get_value("newscrawl/extract/failed/empty") == 1


def test_a_crashed_worker_costs_its_item_one_retry(tmp_path: Path) -> None:
    pipeline, stats = make_pipeline(crash_once)
    crashing = item(MUSK_2021, MUSK_URL)
    crashing.fetched_url = f"{MUSK_URL}#crash={tmp_path / 'crashed'}"
    items = [item(AMBROSIA_2024, AMBROSIA_URL), crashing]
    try:
        results = asyncio.run(process_all(pipeline, items))
    finally:
        pipeline.close_spider()
    assert (tmp_path / "crashed").read_text() == "crashed"
    assert [r.title for r in results] == [
        extract_article(p.read_text(encoding="utf-8"), u)["title"]
        for p, u in ((AMBROSIA_2024, AMBROSIA_URL), (MUSK_2021, MUSK_URL))
    ]
    assert stats.get_value("newscrawl/extract/ok") == 2
    assert stats.get_value("newscrawl/extract/worker_crashed") >= 1


def test_an_item_that_kills_every_worker_is_reported_failed() -> None:
    pipeline, stats = make_pipeline(crash_always, workers=1)
    try:
        results = asyncio.run(process_all(pipeline, [item(MUSK_2021, MUSK_URL)]))
    finally:
        pipeline.close_spider()
    assert isinstance(results[0], DropItem)
    assert str(results[0]) == f"nothing to extract (worker_crashed): {MUSK_URL}"
    assert stats.get_value("newscrawl/extract/failed/worker_crashed") == 1
    assert stats.get_value("newscrawl/extract/worker_crashed") == 2


def test_workers_run_at_the_configured_niceness() -> None:
    pipeline, _ = make_pipeline(report_niceness, workers=1, niceness=7)
    try:
        (result,) = asyncio.run(process_all(pipeline, [item(MUSK_2021, MUSK_URL)]))
    finally:
        pipeline.close_spider()
    assert result.title == str(min(os.nice(0) + 7, 19))


@pytest.mark.parametrize("html", ["", "\x00\x01\x02" * 500])
def test_bad_pages_are_dropped_with_their_reason(html: str) -> None:
    pipeline, stats = make_pipeline(workers=1)
    bad = item(MUSK_2021, MUSK_URL)
    bad.html = html
    try:
        (result,) = asyncio.run(process_all(pipeline, [bad]))
    finally:
        pipeline.close_spider()
    assert isinstance(result, DropItem)
    reason = "empty" if not html else "binary"
    assert str(result) == f"nothing to extract ({reason}): {MUSK_URL}"
    assert stats.get_value(f"newscrawl/extract/failed/{reason}") == 1


# In a fresh interpreter, so that the fork server is started here and not by an earlier
# test: the first worker task reports which heavy modules it found already imported.
_FIRST_TASK_SEES = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from newscrawl.processes import forkserver_context
if sys.argv[1] == "preloaded":
    context = forkserver_context()
else:
    context = multiprocessing.get_context("forkserver")
heavy = ('trafilatura', 'sqlalchemy', 'alembic')
probe = f"sorted(m for m in {heavy} if m in __import__('sys').modules)"
with ProcessPoolExecutor(1, mp_context=context) as pool:
    print(pool.submit(eval, probe).result())
"""


@pytest.mark.parametrize(
    ("context", "imported"),
    # Not alembic: no worker migrates (the crawl process does), and newscrawl.store no
    # longer imports it with the package.
    [("preloaded", "['sqlalchemy', 'trafilatura']"), ("plain", "[]")],
)
def test_workers_start_with_their_modules_imported_by_the_fork_server(
    context: str, imported: str
) -> None:
    """Each worker would otherwise pay 1.1 s of CPU importing them (processes.py)."""
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_TASK_SEES, context],
        capture_output=True, text=True, timeout=120, check=True,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert result.stdout.strip() == imported


_TUNED = """
import gc, sys
from newscrawl.pipelines.collector import tune
before = gc.get_threshold()
tune(int(sys.argv[1]))
print(gc.get_threshold() == before, gc.get_threshold(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [("10000", "False (10000, 20, 20) True"), ("0", "True (700, 10, 10) False")],
)
def test_the_crawl_process_collector_is_tuned_once_its_modules_are_imported(
    threshold: str, expected: str
) -> None:
    """In a fresh interpreter: freezing this test session's objects would keep them."""
    result = subprocess.run(
        [sys.executable, "-c", _TUNED, threshold], capture_output=True, text=True,
        timeout=60, check=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert result.stdout.strip() == expected
