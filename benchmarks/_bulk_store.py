"""Build a store of a year (up to millions of stories) in minutes, on SQLite and PostgreSQL.

``write_batch`` stores ~1,500 stories/s at best, so a million would take hours; this
loader writes the same tables directly (SQLite ``executemany`` in big transactions,
PostgreSQL ``COPY``) after the schema was made by the store's own migrations, then fills
the search index the way the migrations would (FTS5 ``rebuild``; the ``german`` tsvector
of ``newscrawl.store.search``). Secondary indexes are dropped during the load and made
again after it, from their own stored definitions, which is how bulk loads are done on
both databases (an index built once is far cheaper than one grown row by row).

What a story looks like: ~400 words of German-looking text drawn from the mock's
vocabulary with Zipf-like word frequencies (common words in most stories, rare ones in a
few, as in news) and three topic words from a vocabulary of 20,000, also Zipf, dates
spread evenly over the year before ``now``, online ids growing with time, 36 portals,
sections and authors from fixed pools, ~1.3 publication URLs per story (3 in 10 also ran
on a second portal under their own id), a prior version for 1 in 30, a random 64-bit
SimHash (distinct texts are far apart) and its bands.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from benchmarks._bulk_runs import RUNS_A_YEAR, load_runs
from newscrawl.store import make_engine, migrate
from newscrawl.store.dedup import bands, to_signed
from newscrawl.store.search import SEARCH_VECTOR
from newscrawl.store.validate import content_hash
from tests.mocknet.text import vocabulary

CHUNK = 10_000
"""Stories per generated chunk (and per SQLite transaction / COPY round)."""
FIRST_ONLINE_ID = 93_000_000
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

ARTICLE_COLUMNS = (
    "id", "url", "site", "article_id", "title", "seo_title", "kicker", "lead", "text",
    "description", "authors", "author_urls", "section", "keywords", "entities", "image_url",
    "publisher", "language", "paywall", "cms_client_id", "links", "published_at",
    "modified_at", "first_seen_at", "fetched_at", "canonical_declared_at", "content_hash",
    "simhash", "simhash_band0", "simhash_band1", "simhash_band2", "simhash_band3",
    "word_count",
)  # fmt: skip
JSON_COLUMNS = {"authors", "author_urls", "section", "keywords", "entities", "links"}
URL_COLUMNS = ("url", "site", "article_id", "article", "first_seen_at", "last_seen_at")
VERSION_COLUMNS = ("article", "title", "lead", "text", "modified_at", "content_hash", "fetched_at")


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

    def __init__(self, count: int, now: datetime, seed: int = 1) -> None:
        self.count = count
        self.rng = random.Random(seed)
        self.sites = portals()
        self.start = now - timedelta(days=365)
        self.step = timedelta(days=365) / max(count, 1)
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


@dataclass
class BuildReport:
    stories: int
    urls: int
    versions: int
    seconds: dict[str, float]


def build(
    url: str, count: int, now: datetime | None = None, seed: int = 1, runs: int = RUNS_A_YEAR
) -> BuildReport:
    """Create the schema at ``url`` (an empty database), load ``count`` stories and
    ``runs`` cron runs (a year's by default)."""
    now = now or datetime.now(UTC)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    stories = Stories(count, now, seed)
    backend = make_url(url).get_backend_name()
    loader = _load_sqlite if backend == "sqlite" else _load_postgresql
    report = loader(url, stories)
    load_runs(url, now, runs)
    return report


def _sqlite_value(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite DateTime storage format (UTC, naive).
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _sqlite_rows(
    columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(_sqlite_value(name, value) for name, value in zip(columns, row, strict=True))


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _load_sqlite(url: str, stories: Stories) -> BuildReport:
    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    seconds: dict[str, float] = {}
    counts = [0, 0, 0]
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        # Secondary indexes and the FTS insert trigger go while loading, made again after.
        saved = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "((type = 'index' AND tbl_name IN ('articles', 'article_urls', 'article_versions'))"
            " OR name = 'articles_fts_insert')"
        ).fetchall()
        for kind, name, _ in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
        started = time.perf_counter()
        for chunk in stories.chunks():
            conn.execute("BEGIN")
            conn.executemany(
                _insert("articles", ARTICLE_COLUMNS), _sqlite_rows(ARTICLE_COLUMNS, chunk.articles)
            )
            conn.executemany(
                _insert("article_urls", URL_COLUMNS), _sqlite_rows(URL_COLUMNS, chunk.urls)
            )
            conn.executemany(
                _insert("article_versions", VERSION_COLUMNS),
                _sqlite_rows(VERSION_COLUMNS, chunk.versions),
            )
            conn.execute("COMMIT")
            counts = [c + len(rows) for c, rows in zip(counts, _rows(chunk), strict=True)]
        seconds["rows"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, _, sql in saved:
            conn.execute(sql)
        seconds["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        seconds["search index"] = time.perf_counter() - started
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return BuildReport(*counts, seconds)


def _rows(chunk: Chunk) -> tuple[list[Any], list[Any], list[Any]]:
    return chunk.articles, chunk.urls, chunk.versions


def _pg_value(name: str, value: Any) -> Any:
    return Jsonb(value) if name in JSON_COLUMNS else value


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_pg_value(n, v) for n, v in zip(columns, row, strict=True)])


def _load_postgresql(url: str, stories: Stories) -> BuildReport:
    parsed = make_url(url).set(drivername="postgresql")
    seconds: dict[str, float] = {}
    counts = [0, 0, 0]
    with psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        saved = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('articles', 'article_urls', 'article_versions') "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in saved:
            conn.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        # Stories go through a staging table so that each row is written once, with its
        # search vector (an UPDATE afterwards would write every row twice).
        conn.execute("CREATE TEMP TABLE articles_stage (LIKE articles INCLUDING DEFAULTS)")
        columns = ", ".join(ARTICLE_COLUMNS)
        for chunk in stories.chunks():
            with conn.transaction():
                _copy(conn, "articles_stage", ARTICLE_COLUMNS, chunk.articles)
                conn.execute(
                    f"INSERT INTO articles ({columns}, search_vector) "
                    f"SELECT {columns}, {SEARCH_VECTOR} FROM articles_stage"
                )
                conn.execute("TRUNCATE articles_stage")
                _copy(conn, "article_urls", URL_COLUMNS, chunk.urls)
                _copy(conn, "article_versions", VERSION_COLUMNS, chunk.versions)
            counts = [c + len(rows) for c, rows in zip(counts, _rows(chunk), strict=True)]
        seconds["rows and search index"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in saved:
            conn.execute(definition)
        for table in ("articles", "article_urls", "article_versions"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.execute("VACUUM ANALYZE")
        seconds["indexes"] = time.perf_counter() - started
    return BuildReport(*counts, seconds)
