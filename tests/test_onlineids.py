"""The id clock and the run's scope: pure functions, tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newscrawl.limits import parse_max_articles
from newscrawl.onlineids import IdClock, parse_anchors
from newscrawl.spiders.scope import OTHER_PORTAL, TOO_OLD, Scope, page_date

CLOCK = IdClock()
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("online_id", "expected"),
    [
        (92_100_000, datetime(2023, 3, 15, tzinfo=UTC)),
        (93_000_000, datetime(2024, 4, 15, tzinfo=UTC)),
        (94_000_000, datetime(2025, 10, 15, tzinfo=UTC)),
        (94_080_000, datetime(2025, 12, 15, tzinfo=UTC)),
        (93_500_000, datetime(2024, 4, 15, tzinfo=UTC) + 548 * DAY / 2),  # midway
        (94_120_000, datetime(2025, 12, 15, tzinfo=UTC) + 61 * DAY / 2),  # extended
        (91_200_000, datetime(2023, 3, 15, tzinfo=UTC) - 397 * DAY),  # extended back
    ],
)
def test_estimate_interpolates_piecewise_linearly(online_id: int, expected: datetime) -> None:
    assert CLOCK.estimate(online_id) == expected


@pytest.mark.parametrize(
    ("online_id", "since", "older"),
    [
        (94_080_000, datetime(2026, 1, 13, tzinfo=UTC), False),  # 29 days: inside the margin
        (94_080_000, datetime(2026, 1, 15, tzinfo=UTC), True),  # 31 days
        ("93000000", datetime(2024, 5, 1, tzinfo=UTC), False),
        ("93000000", datetime(2024, 6, 1, tzinfo=UTC), True),
    ],
)
def test_older_than_only_beyond_the_margin(online_id, since: datetime, older: bool) -> None:
    assert CLOCK.older_than(online_id, since) is older


@pytest.mark.parametrize(
    "values",
    [["92100000=2023-03-15"], ["x=2023-03-15", "2=2024-01-01"], ["1=2024-01-01", "2=2023-01-01"]],
)
def test_bad_anchors_are_refused(values: list[str]) -> None:
    with pytest.raises(ValueError):
        IdClock(parse_anchors(values))


def test_anchors_from_the_setting_are_sorted_by_id() -> None:
    anchors = parse_anchors(["20=2024-01-02", "10=2024-01-01"])
    # The points are the network's dates: without an offset, Berlin's (CET in January).
    assert anchors == (
        (10, datetime(2023, 12, 31, 23, tzinfo=UTC)),
        (20, datetime(2024, 1, 1, 23, tzinfo=UTC)),
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"datePublished":"2024-04-26T20:44:00+0200","dateModified":"2024-04-28T07:30:00+0200"}',
         datetime(2024, 4, 28, 5, 30, tzinfo=UTC)),
        (b'<meta property="article:published_time" content="2023-09-12T08:30:00+02:00">',
         datetime(2023, 9, 12, 6, 30, tzinfo=UTC)),
        (b"<html><title>no date</title>", None),
        (b'"datePublished":"gestern"', None),
    ],
)  # fmt: skip
def test_page_date_reads_the_newest_own_date(head: bytes, expected: datetime | None) -> None:
    assert page_date(head) == expected


SINCE = datetime(2025, 12, 1, tzinfo=UTC)
SCOPE = Scope(frozenset({"fr.de"}), SINCE, CLOCK)


@pytest.mark.parametrize(
    ("domain", "online_id", "refused"),
    [
        ("fr.de", "94080000", None),
        ("fr.de", "93000000", TOO_OLD),
        ("fr.de", None, None),  # dated by its source: the date decides, not the id
        ("merkur.de", "94080000", OTHER_PORTAL),
    ],
)
def test_link_refused(domain: str, online_id: str | None, refused: str | None) -> None:
    assert SCOPE.link_refused(domain, online_id) == refused


@pytest.mark.parametrize(
    ("body", "online_id", "outside"),
    [
        (b'"dateModified":"2025-11-30T23:00:00Z"', "94080000", True),  # the page's date wins
        (b'"dateModified":"2025-12-01T00:00:00Z"', "93000000", False),
        (b"undated", "93000000", True),  # the id, beyond the margin
        (b"undated", "94080000", False),
        (b"undated", None, False),
    ],
)
def test_page_outside(body: bytes, online_id: str | None, outside: bool) -> None:
    assert SCOPE.page_outside(body, online_id) is outside


def test_no_since_reaches_every_date() -> None:
    scope = Scope(frozenset({"fr.de"}), None, CLOCK)
    assert scope.link_refused("fr.de", "1000000") is None
    assert scope.page_outside(b'"datePublished":"2001-01-01"', "1000000") is False


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("20", 20), (" 3 ", 3)])
def test_max_articles_argument(value, expected) -> None:
    assert parse_max_articles(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "zwanzig", "2.5"])
def test_bad_max_articles_is_an_error(value: str) -> None:
    with pytest.raises(ValueError, match="max_articles"):
        parse_max_articles(value)
