"""What one measured run of the benchmark records: a crawl, or the ceiling's loop."""

from __future__ import annotations

from dataclasses import dataclass, field

NO_DATABASE = "–"
"""The database of a fundus run: it writes JSON lines, as its users do."""


@dataclass
class CrawlRun:
    """One measured crawl (newscrawl, the baseline or fundus) into one fresh database."""

    crawler: str
    database: str
    repeat: int
    returncode: int
    expected: int
    """Pages a complete crawl stores: the mock's expected set."""
    stored: int
    missing: int
    unexpected: int
    wall: float
    cpu: float
    main_rss: int
    worker_rss: int
    """Largest peak RSS of any one extraction worker (0: the crawler has none)."""
    write_seconds: float | None
    mock_cpu: float
    """CPU the mock server spent serving this crawl (not counted in ``cpu``)."""
    main_cpu: float = 0.0
    """CPU of the main (crawl) process alone, sampled: near ``wall`` means it is the
    bottleneck, whatever the workers could do."""
    helpers_rss: dict[int, int] = field(default_factory=dict)
    tree_rss: int = 0
    """Sum of the peak RSS of every process of the crawl (see ``_measure``)."""
    processes: int = 0
    stories: int = 0
    """Expected stories with at least one stored page."""
    article_downloads: int = 0
    """Article pages the mock served to this crawl (200s), and how many distinct."""
    distinct_article_downloads: int = 0

    @property
    def pages_per_second(self) -> float:
        """Pages stored per second of wall time (a peer that stores fewer is slower)."""
        return self.stored / self.wall

    @property
    def cpu_per_page(self) -> float:
        return self.cpu / max(self.stored, 1)

    @property
    def write_share(self) -> float | None:
        return None if self.write_seconds is None else self.write_seconds / self.wall

    @property
    def complete(self) -> bool:
        return self.returncode == 0 and self.missing == 0 and self.unexpected == 0


@dataclass
class CeilingRun:
    repeat: int
    pages: int
    extracted: int
    wall: float
    cpu: float

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.wall

    @property
    def cpu_per_page(self) -> float:
        return self.cpu / self.pages
