"""Source dates and the since= argument."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newscrawl.dates import parse_since, parse_timestamp, parse_user_time

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-26T20:44:00+02:00", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        ("2024-04-26T20:44:00+0200", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        ("2024-04-26T18:44:00Z", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        ("Fri, 26 Apr 2024 20:44:00 +0200", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        ("Fri, 26 Apr 2024 18:44:00 GMT", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        # The one time rule: no offset is the network's own time, Berlin (CEST, CET).
        ("2024-04-26", datetime(2024, 4, 25, 22, 0, tzinfo=UTC)),
        (" 2024-04-26T20:44:00 ", datetime(2024, 4, 26, 18, 44, tzinfo=UTC)),
        ("2024-01-15T10:00:00", datetime(2024, 1, 15, 9, 0, tzinfo=UTC)),
        ("Mon, 15 Jan 2024 10:00:00", datetime(2024, 1, 15, 9, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_reads_iso_and_rfc822(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize("text", [None, "", "  ", "gestern", "2024-13-45", "32.04.2024"])
def test_unreadable_dates_are_none(text: str | None) -> None:
    assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    ("text", "back"),
    [("90m", timedelta(minutes=90)), ("6h", timedelta(hours=6)), ("2d", timedelta(days=2)),
     ("1w", timedelta(weeks=1)), (" 3D ", timedelta(days=3))],
)  # fmt: skip
def test_since_durations_count_back_from_now(text: str, back: timedelta) -> None:
    assert parse_since(text, now=NOW) == NOW - back


def test_since_dates() -> None:
    assert parse_since("2024-04-26") == datetime(2024, 4, 26, tzinfo=UTC)
    berlin = timezone(timedelta(hours=2))
    assert parse_since("2024-04-26T08:00+02:00") == datetime(2024, 4, 26, 8, tzinfo=berlin)


@pytest.mark.parametrize("text", ["yesterday", "6 hours", "-2d", "2y"])
def test_bad_since_is_a_one_line_error(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_since(text)
    assert str(error.value) == (
        f"since={text!r} is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"
    )


def test_people_type_utc_the_network_writes_berlin() -> None:
    """since= and --until read a time without an offset as UTC (README); the network's
    sources as Berlin: the same text, two hours apart in summer."""
    assert parse_user_time("2024-04-26T20:44:00") == datetime(2024, 4, 26, 20, 44, tzinfo=UTC)
    assert parse_timestamp("2024-04-26T20:44:00") == datetime(2024, 4, 26, 18, 44, tzinfo=UTC)
