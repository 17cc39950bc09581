"""End to end: the crawl's summary line names the portals ``newscrawl health`` flags.

A store with 16 days of history on fr.de and merkur.de (``tests/portal_history.py``); the
crawl fetches only the mock network's two other portals, so the history's last two days
stay as they were written: with merkur.de's authors lost, the summary names merkur.de and
a log line says why; with the history whole, it names none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.crawling import CrawlResult, crawl
from tests.mocknet import MockNetwork
from tests.portal_history import fill_history

OTHER_PORTALS = ("-a", "sites=extratipp.com,24auto.de")


def crawl_over_history(
    mock_network: MockNetwork, workdir: Path, authors_lost_on: str | None
) -> CrawlResult:
    db_url = f"sqlite:///{workdir / 'news.db'}"
    fill_history(db_url, datetime.now(UTC), authors_lost_on=authors_lost_on)
    result = crawl(mock_network.registry_path, db_url, workdir, *OTHER_PORTALS)
    assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
    return result


def summary_line(log: str) -> str:
    (line,) = [line for line in log.splitlines() if "newscrawl summary: " in line]
    return line.split("newscrawl summary: ", 1)[1]


def test_the_summary_names_a_portal_whose_authors_were_lost(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    result = crawl_over_history(mock_network, tmp_path, authors_lost_on="merkur.de")
    assert " flagged=merkur.de finish_reason=finished exit=0" in summary_line(result.log)
    flagged = [line for line in result.log.splitlines() if " flagged: " in line]
    assert [line.split("] ", 1)[1] for line in flagged] == [
        "WARNING: portal merkur.de flagged: authors on 0% of stories (usually 100%)"
    ]
    assert result.log.index(flagged[0]) < result.log.index("newscrawl summary: ")


def test_a_healthy_store_names_no_portal(mock_network: MockNetwork, tmp_path: Path) -> None:
    result = crawl_over_history(mock_network, tmp_path, authors_lost_on=None)
    line = summary_line(result.log)
    assert "flagged=" not in line and line.endswith(" finish_reason=finished exit=0")
    assert " flagged: " not in result.log
