"""StorePipeline in real Scrapy crawls (subprocesses: a reactor runs once per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from newscrawl.store import make_engine
from newscrawl.store.models import Article, CrawlRun, RejectedPage

ROOT = Path(__file__).resolve().parents[1]

# A spider that yields items built by tests.dbs (no network), slowly when asked to.
CRAWL = textwrap.dedent("""
    import asyncio, json, os, sys
    import scrapy
    import scrapy.exceptions
    from scrapy.crawler import CrawlerProcess
    from newscrawl.items import ArticleItem
    from tests.dbs import synthetic_items

    options = json.loads(sys.argv[1])

    class DropSome:
        # Stands in for extraction: drops the items of the ids it is told to, as it does.

        def process_item(self, item):
            if item.article_id in options["drop"]:
                raise scrapy.exceptions.DropItem(f"nothing to extract (empty): {item.fetched_url}")
            return item

    class Items(scrapy.Spider):
        name = "items"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.arguments = dict(kwargs)  # what the pipeline records, as IppenSpider does
            self.site_domains = kwargs["sites"].split(",")

        async def start(self):
            items = synthetic_items(options["count"], seed=5)
            items += [dict(items[0])] + [dict(items[1], url=None)]
            pauses = dict(options.get("pauses", []))  # item index -> file to wait for
            for n, item in enumerate(items):
                while n in pauses and not os.path.exists(pauses[n]):
                    await asyncio.sleep(0.05)
                yield ArticleItem(**item)
                if options["delay"]:
                    await asyncio.sleep(options["delay"])

    process = CrawlerProcess(options["settings"], install_root_handler=True)
    crawler = process.create_crawler(Items)
    process.crawl(crawler, sites="fr.de", count=str(options["count"]))
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newscrawl/")}
    stats["finish_reason"] = crawler.stats.get_value("finish_reason")
    print("STATS " + json.dumps(stats))
""")


def run_crawl(
    database_url: str,
    tmp_path: Path,
    count: int,
    delay: float = 0.0,
    drop: tuple[str, ...] = (),
    pauses: tuple[tuple[int, str], ...] = (),
    **settings: Any,
) -> tuple[dict[str, Any], str]:
    """Run a crawl of ``count`` good items + 1 repeat + 1 bad item; (store stats, log).

    Items whose ``article_id`` is in ``drop`` are dropped before the store; ``pauses``:
    (index, path) pairs, the item at index waits until the file at path exists."""
    options = {
        "count": count,
        "delay": delay,
        "drop": list(drop),
        "pauses": [list(pause) for pause in pauses],
        "settings": {
            "ITEM_PIPELINES": {
                "__main__.DropSome": 100,
                "newscrawl.pipelines.store.StorePipeline": 300,
            },
            "NEWSCRAWL_DATABASE_URL": database_url,
            "NEWSCRAWL_DEADLETTER_PATH": str(tmp_path / "deadletter.jsonl"),
            "NEWSCRAWL_STORE_BATCH_SIZE": 25,
            "NEWSCRAWL_STORE_FLUSH_SECONDS": 0.2,
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
            "LOG_LEVEL": "INFO",
            **settings,
        },
    }
    done = subprocess.run(
        [sys.executable, "-c", CRAWL, json.dumps(options)],
        capture_output=True, text=True, cwd=ROOT, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("STATS "))
    return json.loads(line[6:]), done.stderr


def test_crawl_stores_items_and_records_the_run(pg_url: str, tmp_path: Path) -> None:
    url = pg_url.replace("postgres@", "postgres:hunter2-secret@")  # trust auth ignores it
    stats, log = run_crawl(url, tmp_path, count=60)
    assert 0 < stats.pop("newscrawl/store/write_seconds") < 60
    assert 0 < stats.pop("newscrawl/store/index_seconds") < 60
    assert stats == {
        "newscrawl/store/indexed": 60,
        "newscrawl/store/new": 60,
        "newscrawl/store/unchanged": 1,
        "newscrawl/store/failed": 1,
        "newscrawl/store/failed/missing_url": 1,
        # per portal, for the progress extension's end-of-crawl table
        "newscrawl/store/new/site/fr.de": 60,
        "newscrawl/store/unchanged/site/fr.de": 1,
        "newscrawl/store/failed/site/fr.de": 1,
        "finish_reason": "finished",
    }
    assert "hunter2" not in log
    assert "Storing items in postgresql+psycopg://postgres:***@127.0.0.1" in log
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Article)).scalar_one() == 60
        run = conn.execute(select(CrawlRun)).one()
    engine.dispose()
    assert (run.spider, run.status, run.arguments) == (
        "items", "finished", {"sites": "fr.de", "count": "60"},
    )  # fmt: skip
    assert (run.new, run.updated, run.unchanged, run.duplicates, run.failed) == (60, 0, 1, 0, 1)
    assert run.sites == ["fr.de"]
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert not (tmp_path / "deadletter.jsonl").exists()


def test_default_sqlite_database_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/news.db"
    stats, _log = run_crawl(url, tmp_path, count=5, NEWSCRAWL_STORE_BATCH_SIZE=2)
    assert stats["newscrawl/store/new"] == 5
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(CrawlRun.status)).scalar_one() == "finished"
    engine.dispose()


def test_dropped_pages_are_remembered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/news.db"
    stats, _log = run_crawl(url, tmp_path, count=4, drop=("10000002",))
    assert (stats["newscrawl/store/new"], stats["newscrawl/store/rejected_pages"]) == (3, 1)
    engine = make_engine(url)
    with engine.connect() as conn:
        pages = conn.execute(select(RejectedPage.url, RejectedPage.reason, RejectedPage.times))
        assert [tuple(row) for row in pages] == [
            ("https://www.fr.de/ratgeber/ambrosia-giftig-garten-zr-10000002.html", "empty", 1)
        ]
    engine.dispose()
