"""How old an article is, from its online id alone: the network's id clock.

The CMS hands out online ids from one counter for the whole network, so an id
grows with the time its story was created. Known points of that clock (ids seen
on dated stories) are the anchors; between two anchors the date is interpolated
linearly, before the first and after the last the nearest segment's rate is
extended. The estimate is good to a few weeks, not to the hour (the anchors are
month-granular and the rate changes within a segment), so a run only skips an
article link by its id when the estimate is older than ``since`` by more than a
margin: an article inside the window is never skipped for its id, and an old one
that slips through the margin is fetched, dated by its page and neither stored
nor followed (see ``spiders/scope.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newscrawl.dates import parse_timestamp

NETWORK_ANCHORS: tuple[tuple[int, datetime], ...] = (
    (92_100_000, datetime(2023, 3, 15, tzinfo=UTC)),
    (93_000_000, datetime(2024, 4, 15, tzinfo=UTC)),
    (94_000_000, datetime(2025, 10, 15, tzinfo=UTC)),
    (94_080_000, datetime(2025, 12, 15, tzinfo=UTC)),
)
"""Ids seen on the network's stories in these months (mid-month: each is +-15 days)."""

NETWORK_MARGIN = timedelta(days=30)
"""The anchors' +-15 days, plus as much again for a rate that is not constant between them
(1,300 to 2,300 ids a day on the segments above)."""


@dataclass(frozen=True)
class IdClock:
    """Piecewise-linear map from online id to creation time (at least two anchors)."""

    anchors: tuple[tuple[int, datetime], ...] = NETWORK_ANCHORS
    margin: timedelta = NETWORK_MARGIN

    def __post_init__(self) -> None:
        ids = [number for number, _ in self.anchors]
        times = [moment for _, moment in self.anchors]
        if len(ids) < 2 or ids != sorted(set(ids)) or times != sorted(set(times)):
            raise ValueError("online id anchors: two or more, ids and dates both increasing")

    def estimate(self, online_id: int) -> datetime:
        """When the story with this id was created, about."""
        index = bisect_right([number for number, _ in self.anchors], online_id)
        index = min(max(index, 1), len(self.anchors) - 1)  # extend the end segments
        (id0, t0), (id1, t1) = self.anchors[index - 1], self.anchors[index]
        return t0 + (t1 - t0) * ((online_id - id0) / (id1 - id0))

    def older_than(self, online_id: int | str, since: datetime) -> bool:
        """True only when the story is older than ``since`` beyond doubt (the margin)."""
        return self.estimate(int(online_id)) < since - self.margin


def parse_anchors(values: Iterable[str]) -> tuple[tuple[int, datetime], ...]:
    """``["92100000=2023-03-15", ...]`` (the setting's form) -> anchors, sorted by id."""
    anchors = []
    for value in values:
        number, _, date = value.partition("=")
        moment = parse_timestamp(date)
        if not number.strip().isdigit() or moment is None:
            raise ValueError(f"online id anchor {value!r} is not ID=ISO-DATE")
        anchors.append((int(number), moment))
    return tuple(sorted(anchors))


def clock_from_settings(anchors: Sequence[str], margin_hours: float) -> IdClock:
    """The clock a crawl uses: the network's unless NEWSCRAWL_ONLINE_ID_ANCHORS is set."""
    margin = timedelta(hours=margin_hours)
    return IdClock(parse_anchors(anchors), margin) if anchors else IdClock(margin=margin)
