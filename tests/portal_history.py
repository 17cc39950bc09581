"""A store with a history: stories of two portals over the last 16 days, three a day, for
the health tests (named so that pytest does not collect it).

Written through the store (``write_batch``, distinct synthetic bodies so that nothing is
merged as a duplicate), then each story's ``first_seen_at`` set to its day: day 0 and 1
are the recent window of ``newscrawl health``, days 2-15 its 14-day baseline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from newscrawl.store import make_engine, migrate, write_batch
from newscrawl.store.models import Article
from tests.dbs import make_item, synthetic_texts

PORTALS = ("fr.de", "merkur.de")
DAYS = 16
PER_DAY = 3


def fill_history(url: str, now: datetime, authors_lost_on: str | None = None) -> None:
    """Stories of ``PORTALS``; those of ``authors_lost_on`` in the last two days have no
    authors (a layout change broke the author extraction)."""
    texts = iter(synthetic_texts(len(PORTALS) * DAYS * PER_DAY, seed=7))
    items, seen_at = [], {}
    for number, (site, day, _) in enumerate(
        (site, day, n) for site in PORTALS for day in range(DAYS) for n in range(PER_DAY)
    ):
        article_id = str(20_000_000 + number)
        text = next(texts)
        lost = site == authors_lost_on and day < 2
        items.append(
            make_item(
                article_id=article_id, site=site, title=f"Meldung {article_id}", text=text,
                authors=[] if lost else ["Simone Jung"], word_count=len(text.split()),
            )
        )  # fmt: skip
        seen_at[article_id] = now - timedelta(days=day, hours=6)
    engine = make_engine(url)
    try:
        migrate(engine)
        result = write_batch(engine, items)
        assert result.counts()["new"] == len(items), result.counts()
        with engine.begin() as conn:
            for article_id, when in seen_at.items():
                conn.execute(
                    update(Article)
                    .where(Article.article_id == article_id)
                    .values(first_seen_at=when)
                )
    finally:
        engine.dispose()
