"""Search ranks by relevance, then newest first: also when the best ``limit`` are cut
from among equally relevant stories (the SQLite ranking finds the cut in the index
alone and must still keep the newest of a tie)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from newscrawl.store import search, write_batch
from tests.dbs import make_item, synthetic_texts

WORDS = 150


def test_a_tie_at_the_limit_keeps_the_newest(db_engine: Engine) -> None:
    # Equally long bodies with the word once, equally long titles: equal ranks.
    *texts, other = synthetic_texts(5, 5)
    bodies = [" ".join(text.split()[:WORDS]) + " Zauberwort." for text in texts]
    first = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        make_item(article_id=str(93_500_000 + n), title=f"Meldung {n}", lead="Kurz gemeldet.",
                  text=body, published_at=first + timedelta(days=n))
        for n, body in enumerate(bodies)
    ]  # fmt: skip
    items.append(
        make_item(article_id="93500009", title="Zauberwort Meldung", lead="Kurz gemeldet.",
                  text=other, published_at=first)
    )  # fmt: skip
    engine = db_engine
    assert write_batch(engine, items).new == 5
    found = search(engine, "Zauberwort", limit=3)
    # The title hit first, then the newest two of the four tied body hits.
    assert [row["article_id"] for row in found] == ["93500009", "93500003", "93500002"]
    everything = search(engine, "Zauberwort", limit=10)
    assert [row["article_id"] for row in everything] == [
        "93500009",
        "93500003",
        "93500002",
        "93500001",
        "93500000",
    ]
