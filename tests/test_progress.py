"""The progress extension's pure parts: counts → status line, counts → per-portal table.

The crawls that show them (under a pseudo-terminal and under cron) are in
``test_progress_e2e.py``.
"""

from __future__ import annotations

import pytest

from newscrawl.progress.report import (
    PortalCounts,
    RateMeter,
    Snapshot,
    format_elapsed,
    portal_counts,
    portal_table,
    status_line,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (59.9, "0:00:59"), (61, "0:01:01"), (3600, "1:00:00"),
     (36_000 + 62, "10:01:02")],
)  # fmt: skip
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


PORTALS = {
    "fr.de": PortalCounts(fetched=17, new=6),
    "merkur.de": PortalCounts(fetched=21, new=10, updated=2),
    "extratipp.com": PortalCounts(fetched=21, new=7, rejected=2),
    "24auto.de": PortalCounts(fetched=18, new=7, failed_sources=2),
    "tz.de": PortalCounts(),
}


@pytest.mark.parametrize(
    ("snapshot", "busiest", "line"),
    [
        # Before the first response: no portal has a page yet, so none is named.
        (Snapshot(0.4, 0, 0.0, 0, 0, 4, {"fr.de": PortalCounts()}), 3,
         "0:00:00 | 0 pages (0.0/s) | stories 0 new, 0 updated | 4 queued"),
        # The busiest three by pages fetched, ties by name; the rest counted.
        (Snapshot(75.2, 77, 12.34, 30, 2, 120, PORTALS), 3,
         "0:01:15 | 77 pages (12.3/s) | stories 30 new, 2 updated | 120 queued | "
         "extratipp.com 21 (7 new), merkur.de 21 (10 new), 24auto.de 18 (7 new), +1 more"),
        # Room for every active portal: no "+N more"; a portal without pages is left out.
        (Snapshot(3725, 77, 0.05, 30, 2, 0, PORTALS), 5,
         "1:02:05 | 77 pages (0.1/s) | stories 30 new, 2 updated | 0 queued | "
         "extratipp.com 21 (7 new), merkur.de 21 (10 new), 24auto.de 18 (7 new), "
         "fr.de 17 (6 new)"),
        # The queue cannot say (closed, Redis gone): the line goes on without it.
        (Snapshot(1, 5, 5.0, 0, 0, None, {"fr.de": PortalCounts(fetched=5)}), 1,
         "0:00:01 | 5 pages (5.0/s) | stories 0 new, 0 updated | fr.de 5 (0 new)"),
        # busiest=0: no portals in the line.
        (Snapshot(1, 5, 5.0, 0, 0, 3, {"fr.de": PortalCounts(fetched=5)}), 0,
         "0:00:01 | 5 pages (5.0/s) | stories 0 new, 0 updated | 3 queued"),
    ],
)  # fmt: skip
def test_status_line(snapshot: Snapshot, busiest: int, line: str) -> None:
    assert status_line(snapshot, busiest) == line


def test_portal_table_has_a_row_per_portal_in_order_and_a_total() -> None:
    assert portal_table(PORTALS) == "\n".join([
        "portal         fetched  new  updated  unchanged  duplicates  rejected  failed  failed sources",  # noqa: E501
        "-------------  -------  ---  -------  ---------  ----------  --------  ------  --------------",  # noqa: E501
        "fr.de          17       6    0        0          0           0         0       0",
        "merkur.de      21       10   2        0          0           0         0       0",
        "extratipp.com  21       7    0        0          0           2         0       0",
        "24auto.de      18       7    0        0          0           0         0       2",
        "tz.de          0        0    0        0          0           0         0       0",
        "total          77       30   2        0          0           2         0       2",
    ])  # fmt: skip


def test_portal_table_of_a_crawl_that_fetched_nothing() -> None:
    assert portal_table({}) == "\n".join([
        "portal  fetched  new  updated  unchanged  duplicates  rejected  failed  failed sources",
        "------  -------  ---  -------  ---------  ----------  --------  ------  --------------",
        "total   0        0    0        0          0           0         0       0",
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("stats", "fetched", "rejected", "order", "expected"),
    [
        # The crawl's portals come first, in its order, even with nothing counted.
        ({}, {}, {}, ["merkur.de", "fr.de"],
         {"merkur.de": PortalCounts(), "fr.de": PortalCounts()}),
        # Every source of counts lands in its column; other stats are ignored.
        ({"newscrawl/store/new": 9, "newscrawl/store/new/site/fr.de": 6,
          "newscrawl/store/new/site/merkur.de": 3, "newscrawl/store/updated/site/fr.de": 1,
          "newscrawl/store/unchanged/site/fr.de": 4, "newscrawl/store/duplicate/site/fr.de": 2,
          "newscrawl/store/failed/site/merkur.de": 5, "newscrawl/store/failed/missing_url": 5,
          "newscrawl/source/failed/site/merkur.de": 2, "newscrawl/source/failed/http_404": 2,
          "response_received_count": 99},
         {"fr.de": 20, "merkur.de": 11}, {"fr.de": 3}, ["fr.de", "merkur.de"],
         {"fr.de": PortalCounts(fetched=20, new=6, updated=1, unchanged=4, duplicates=2,
                                rejected=3),
          "merkur.de": PortalCounts(fetched=11, new=3, failed=5, failed_sources=2)}),
        # A portal outside the crawl's selection (a link followed to it, a canonical on it)
        # and "other" follow, alphabetically.
        ({"newscrawl/store/new/site/tz.de": 1}, {"other": 2, "fr.de": 1}, {}, ["fr.de"],
         {"fr.de": PortalCounts(fetched=1), "other": PortalCounts(fetched=2),
          "tz.de": PortalCounts(new=1)}),
    ],
)  # fmt: skip
def test_portal_counts(
    stats: dict, fetched: dict, rejected: dict, order: list, expected: dict
) -> None:
    counts = portal_counts(stats, fetched, rejected, order)
    assert counts == expected
    assert list(counts) == list(expected)


@pytest.mark.parametrize(
    ("samples", "window", "rates"),
    [
        # The first sample has nothing to compare with.
        ([(0.0, 0)], 3, [0.0]),
        # Over the window: (pages now - pages then) / (now - then).
        ([(0.0, 0), (1.0, 10), (2.0, 30), (3.0, 30)], 3, [0.0, 10.0, 15.0, 10.0]),
        # A window of two samples is the rate since the previous one (the log line's).
        ([(0.0, 0), (60.0, 120), (120.0, 150)], 2, [0.0, 2.0, 0.5]),
    ],
)  # fmt: skip
def test_rate_meter(samples: list, window: int, rates: list) -> None:
    meter = RateMeter(window)
    assert [meter.add(now, pages) for now, pages in samples] == rates
