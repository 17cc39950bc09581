"""The SQL of ``newscrawl health`` and ``newscrawl export``, on SQLite and PostgreSQL, and
the metrics extension inside a real Scrapy crawler."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine

from newscrawl import output
from newscrawl.metrics import PrometheusMetrics
from newscrawl.store import make_engine, write_batch
from newscrawl.store.export import column_kinds, stream_articles
from newscrawl.store.health import Window, health
from newscrawl.store.query import Filters
from tests.portal_history import fill_history
from tests.query_data import HOCHBEET, MUSK, NORDKOREA, WIESN

pytest_plugins = ["tests.dbs"]

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_health_windows_and_flags(db_url: str) -> None:
    fill_history(db_url, NOW, authors_lost_on="fr.de")
    engine = make_engine(db_url)
    try:
        portals = {portal.site: portal for portal in health(engine, NOW, 2, 14)}
    finally:
        engine.dispose()
    assert sorted(portals) == ["fr.de", "merkur.de"]
    fr, merkur = portals["fr.de"], portals["merkur.de"]
    words = fr.baseline.median_words
    assert words is not None and words > 300
    assert fr.recent == Window(2, 6, 0, 6, 6, fr.recent.median_words)
    assert fr.baseline == Window(14, 42, 42, 42, 42, words)
    assert fr.problems == ("authors on 0% of stories (usually 100%)",)
    assert merkur.recent.stories == 6 and merkur.recent.with_authors == 6
    assert merkur.baseline.stories == 42 and merkur.problems == ()
    assert fr.row()["status"] == "authors on 0% of stories (usually 100%)"
    assert fr.row()["per_day"] == 3.0 and fr.row()["usual_authors_pct"] == 100


def test_health_counts_only_the_two_windows(db_url: str) -> None:
    fill_history(db_url, NOW)
    engine = make_engine(db_url)
    try:
        # 16 days of history, but a 1-day recent window and 5-day baseline see 6 days.
        portals = health(engine, NOW, 1, 5)
    finally:
        engine.dispose()
    assert [(p.site, p.recent.stories, p.baseline.stories, p.problems) for p in portals] == [
        ("fr.de", 3, 15, ()),
        ("merkur.de", 3, 15, ()),
    ]


def test_export_streams_the_selected_columns(db_engine: Engine) -> None:
    write_batch(db_engine, [NORDKOREA, MUSK, HOCHBEET, WIESN])
    columns = ["article_id", "site", "authors", "paywall", "published_at"]
    rows = list(stream_articles(db_engine, Filters(site="merkur.de"), columns, batch=2))
    assert rows == [
        {
            "article_id": "93035001",
            "site": "merkur.de",
            "authors": ["Simone Jung", "Anna Lorenz"],
            "paywall": True,
            "published_at": datetime(2024, 4, 26, 7, 15, tzinfo=UTC),
        }
    ]
    since = Filters(since=datetime(2024, 1, 1, tzinfo=UTC))
    ids = [row["article_id"] for row in stream_articles(db_engine, since, ["article_id"], 1)]
    assert ids == ["93035001", "93034002"]


def test_parquet_has_typed_columns(db_engine: Engine) -> None:
    write_batch(db_engine, [NORDKOREA, HOCHBEET])
    columns = ["article_id", "word_count", "authors", "paywall", "published_at"]
    buffer = io.BytesIO()
    rows = stream_articles(db_engine, Filters(), columns)
    output.write_parquet(rows, column_kinds(columns), buffer)
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert [str(field.type) for field in table.schema] == [
        "string",
        "int64",
        "string",
        "bool",
        "timestamp[us, tz=UTC]",
    ]
    data = table.to_pylist()
    assert [row["article_id"] for row in data] == ["13680734", "93035001"]
    assert [json.loads(row["authors"]) for row in data] == [
        ["FR mit dpa"],
        ["Simone Jung", "Anna Lorenz"],
    ]
    assert data[1]["published_at"] == datetime(2024, 4, 26, 7, 15, tzinfo=UTC)
    assert data[1]["paywall"] is True


def test_metrics_extension_is_off_unless_a_file_is_set(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        PrometheusMetrics.from_crawler(get_crawler(settings_dict={}))
    target = tmp_path / "metrics" / "newscrawl.prom"
    crawler = get_crawler(settings_dict={"NEWSCRAWL_METRICS_FILE": str(target)})
    extension = PrometheusMetrics.from_crawler(crawler)
    assert crawler.stats is not None
    crawler.stats.set_value("newscrawl/store/new", 4)

    class Spider:
        name = "ippen"

    extension.spider_closed(Spider(), "finished")  # type: ignore[arg-type]
    assert target.read_text().splitlines()[2] == (
        'newscrawl_stat{spider="ippen",key="newscrawl/store/new"} 4'
    )
    assert target.read_text().endswith(
        'newscrawl_finish_reason{spider="ippen",reason="finished"} 1\n'
    )
    assert [path.name for path in target.parent.iterdir()] == ["newscrawl.prom"]
