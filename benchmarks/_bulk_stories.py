"""The stories of a bulk-built store (``benchmarks/_bulk_store.py``), generated fast and
deterministically.

What a story looks like: ~400 words of German-looking text drawn from the mock's
vocabulary with Zipf-like word frequencies (common words in most stories, rare ones in a
few, as in news) and three topic words from a vocabulary of 20,000, also Zipf; dates
spread evenly over the ``span`` before ``now`` (a year unless told), online ids growing
with time, 36 portals, sections and authors from fixed pools, ~1.3 publication URLs per
story (3 in 10 also ran on a second portal under their own id), a prior version for 1 in
30, a random 64-bit SimHash (distinct texts are far apart) and its bands.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from newscrawl.store.dedup import bands, to_signed
from newscrawl.store.validate import content_hash
from tests.mocknet.text import vocabulary

CHUNK = 10_000
"""Stories per generated chunk (and per SQLite transaction / COPY round)."""
FIRST_ONLINE_ID = 93_000_000
YEAR = timedelta(days=365)
"""The span a store of a year's stories is published over (``build(span=...)``)."""
SECTIONS = (
    ("Politik", "Deutschland"), ("Politik", "Ausland"), ("Wirtschaft",), ("Sport", "Fußball"),
    ("Sport",), ("Lokales", "München"), ("Lokales", "Frankfurt"), ("Panorama",),
    ("Verbraucher",), ("Ratgeber", "Garten"), ("Ratgeber", "Wohnen"), ("Stars",), ("TV",),
    ("Welt",), ("Kultur",), ("Auto",), ("Reise",), ("Gesundheit",), ("Wissen",), ("Region",),
)  # fmt: skip
TOPICS = 20_000
TOPICS_PER_STORY = 3
SENTENCE_POOL = 20_000
SENTENCES_PER_STORY = 36
"""~11 words a sentence: ~400 words, ~3 KB a story."""


def portals() -> list[str]:
    """The 36 domains of the registry (newscrawl/sites.toml)."""
    registry = Path(__file__).resolve().parents[1] / "newscrawl" / "sites.toml"
    return [site["domain"] for site in tomllib.loads(registry.read_text("utf-8"))["sites"]]


@dataclass
class Chunk:
    articles: list[tuple[Any, ...]] = field(default_factory=list)
    urls: list[tuple[Any, ...]] = field(default_factory=list)
    versions: list[tuple[Any, ...]] = field(default_factory=list)


class Stories:
    """Deterministic stories ``0..count-1``; story ``n`` is published at ``start + n * step``."""

    def __init__(self, count: int, now: datetime, seed: int = 1, span: timedelta = YEAR) -> None:
        self.count = count
        self.rng = random.Random(seed)
        self.sites = portals()
        self.start = now - span
        self.step = span / max(count, 1)
        capitalised, lower = vocabulary()
        self.words = list(capitalised + lower)
        self.rng.shuffle(self.words)
        # Zipf: the k-th word is drawn with weight 1/k.
        weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.words))))
        self.sentences = [self._sentence(weights) for _ in range(SENTENCE_POOL)]
        # Topic words (names, places, compounds): a big vocabulary, a few in each story,
        # also Zipf, so that a search can hit thousands of stories or a handful.
        self.topics = sorted(
            {
                (self.rng.choice(capitalised) + self.rng.choice(lower)).capitalize()
                for _ in range(TOPICS * 2)
            }
        )[:TOPICS]
        self.rng.shuffle(self.topics)
        self.topic_weights = list(accumulate(1 / (rank + 1) for rank in range(TOPICS)))
        self.authors = [
            f"{self.rng.choice(capitalised)} {self.rng.choice(capitalised)}" for _ in range(400)
        ]

    def _sentence(self, cum_weights: list[float]) -> str:
        words = self.rng.choices(self.words, cum_weights=cum_weights, k=self.rng.randint(7, 16))
        return " ".join(words).capitalize() + "."

    def word(self, rank: int) -> str:
        """The ``rank``-th most frequent word (0: in nearly every story, 600: in 1 in 8)."""
        return self.words[rank]

    def topic(self, rank: int) -> str:
        """The ``rank``-th most frequent topic word (20: in 1 in 60 stories, 2000: 1 in 6,000)."""
        return self.topics[rank]

    def chunks(self) -> Iterator[Chunk]:
        for low in range(0, self.count, CHUNK):
            chunk = Chunk()
            for n in range(low, min(low + CHUNK, self.count)):
                self._story(n, chunk)
            yield chunk

    def _story(self, n: int, chunk: Chunk) -> None:
        rng = self.rng
        story_id = n + 1
        online = str(FIRST_ONLINE_ID + n)
        site = self.sites[n % len(self.sites)]
        section = list(SECTIONS[rng.randrange(len(SECTIONS))])
        sentences = rng.choices(self.sentences, k=SENTENCES_PER_STORY)
        topics = rng.choices(self.topics, cum_weights=self.topic_weights, k=TOPICS_PER_STORY)
        sentences[2] = f"{' und '.join(topics)}: {sentences[2]}"
        text = "\n".join(" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6))
        title = f"Meldung {online}: {sentences[0][:60]}"
        lead = sentences[1]
        published = self.start + self.step * n
        modified = published + timedelta(minutes=rng.randint(0, 240))
        fetched = modified + timedelta(minutes=rng.randint(1, 15))
        url = f"https://www.{site}/{section[0].lower()}/meldung-{online}.html"
        unsigned = rng.getrandbits(64)
        authors = [self.authors[rng.randrange(len(self.authors))]]
        chunk.articles.append((
            story_id, url, site, online, title, title, None, lead, text, lead[:160], authors,
            [], section, [section[-1]], [], f"https://www.{site}/img/{online}.jpg",
            "Ippen Media", "de", rng.random() < 0.1, None, [], published, modified, fetched,
            fetched, fetched, content_hash(title, lead, text), to_signed(unsigned),
            *bands(unsigned),
            len(text.split()),
        ))  # fmt: skip
        chunk.urls.append((url, site, online, story_id, fetched, fetched))
        if rng.random() < 0.3:
            other = self.sites[(n + 7) % len(self.sites)]
            copy = str(FIRST_ONLINE_ID + self.count + n)
            copy_url = f"https://www.{other}/{section[0].lower()}/meldung-{copy}.html"
            chunk.urls.append((copy_url, other, copy, story_id, fetched, fetched))
        if n % 30 == 0:
            old = text.replace(".", "!", 1)
            chunk.versions.append(
                (story_id, title, lead, old, published, content_hash(title, lead, old), published)
            )
