"""Running ``scrapy crawl ippen`` as a user does, and reading back what it did.

Shared by the end-to-end tests; named so that pytest does not collect it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newscrawl.store import make_engine
from newscrawl.store.models import Article, ArticleUrl

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRAPY = Path(sys.executable).with_name("scrapy")
_STAT = re.compile(r"^ '(?P<key>[^']+)': (?P<value>\d+(?:\.\d+)?),?$", re.M)


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str
    log: str

    @property
    def stats(self) -> dict[str, float]:
        """The numeric stats of the final stats dump."""
        dump = self.log.rsplit("Dumping Scrapy stats:", 1)[-1]
        return {m["key"]: float(m["value"]) for m in _STAT.finditer(dump)}


def crawl_command(
    registry: Path | str, database_url: str, workdir: Path, log_file: Path, *args: str
) -> list[str]:
    """``scrapy crawl ippen`` against a registry, with politeness delays lifted for the mock."""
    return [
        str(SCRAPY), "crawl", "ippen",
        "-s", f"NEWSCRAWL_SITES={registry}",
        "-s", f"NEWSCRAWL_DATABASE_URL={database_url}",
        "-s", f"NEWSCRAWL_DEADLETTER_PATH={workdir / 'deadletter.jsonl'}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"LOG_FILE={log_file}",
        *args,
    ]  # fmt: skip


def crawl(
    registry: Path | str, database_url: str, workdir: Path, *args: str, timeout: float = 240
) -> CrawlResult:
    """Run ``crawl_command`` to its end as a subprocess in the repository root."""
    log_file = workdir / f"crawl-{len(list(workdir.glob('crawl-*.log')))}.log"
    command = crawl_command(registry, database_url, workdir, log_file, *args)
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    return CrawlResult(done.returncode, done.stdout, done.stderr, log)


def stored_articles(database_url: str) -> dict[str, dict[str, Any]]:
    """url → row of every stored article."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Article.__table__)).mappings().all()
        return {row["url"]: dict(row) for row in rows}
    finally:
        engine.dispose()


def stored_publications(database_url: str) -> dict[str, str]:
    """publication url → canonical url of its story."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ArticleUrl.url, Article.url).join(Article, ArticleUrl.article == Article.id)
            ).all()
        return {publication: canonical for publication, canonical in rows}
    finally:
        engine.dispose()
