"""The benchmark's output: the machine, one table of medians (min–max), the targets."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks._records import NO_DATABASE, CeilingRun, CrawlRun

LIBRARIES = ("scrapy", "twisted", "trafilatura", "lxml", "sqlalchemy", "psycopg")
MB = 1024 * 1024


def cores() -> int:
    return len(os.sched_getaffinity(0))


def machine_lines(repo: Path, databases: Sequence[str]) -> list[str]:
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor() or "unknown",
    )  # fmt: skip
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"machine: {cores()} cores ({model}), {int(meminfo[1]) / 1024**2:.1f} GiB memory, "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}; " + ", ".join(_versions()),
        f"databases: {'; '.join(databases)}",
        f"newscrawl: {commit or 'unknown commit'}",
    ]


def _versions() -> list[str]:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return found


def _spread(values: Sequence[float], fmt: str) -> str:
    if not values:
        return "–"
    median, low, high = (format(v, fmt) for v in (statistics.median(values), min(values),
                                                  max(values)))  # fmt: skip
    return median if low == high else f"{median} ({low}–{high})"


def _column(runs: Sequence[CrawlRun], value: Callable[[CrawlRun], float | None], fmt: str) -> str:
    values = [v for v in (value(run) for run in runs) if v is not None]
    return _spread(values, fmt)


def is_newscrawl(crawler: str) -> bool:
    """newscrawl itself, or one of its variants (``--versus``, ``--variant``)."""
    return crawler == "newscrawl" or crawler.startswith(("newscrawl:", "newscrawl@"))


def per_repeat(
    crawls: Sequence[CrawlRun], database: str, peer: str, value: Callable[[CrawlRun], float],
    mine: str = "newscrawl",
) -> list[float]:  # fmt: skip
    """Per repeat: newscrawl's (or ``mine``'s) value / the peer's (its run on the same
    database, or fundus's, which has none).

    Ratios are taken within one repeat (runs minutes apart), never across the medians,
    so a noisy neighbour slowing one repeat slows both sides of its ratio.
    """
    found = []
    for run in crawls:
        if run.crawler != mine or run.database != database:
            continue
        for other in crawls:
            if (other.crawler, other.repeat) == (peer, run.repeat) and other.database in (
                database, NO_DATABASE,
            ) and value(other):  # fmt: skip
                found.append(value(run) / value(other))
    return found


def ratios(
    crawls: Sequence[CrawlRun], ceilings: Sequence[CeilingRun], database: str
) -> tuple[list[float], list[float]]:
    """Per repeat: newscrawl/baseline and newscrawl/(cores × ceiling) pages/s."""
    vs_baseline = per_repeat(crawls, database, "baseline", lambda r: r.pages_per_second)
    ceiling_by_repeat = {c.repeat: c for c in ceilings}
    vs_ceiling = [
        run.pages_per_second / (cores() * ceiling_by_repeat[run.repeat].pages_per_second)
        for run in crawls
        if run.crawler == "newscrawl" and run.database == database
        and run.repeat in ceiling_by_repeat
    ]  # fmt: skip
    return vs_baseline, vs_ceiling


HEADER = (
    "| run | pages/s | wall s | CPU ms/page | tree peak RSS MB | processes | main peak RSS MB "
    "| worker peak RSS MB | DB write % of wall | main process CPU % of wall "
    "| stored / expected | stories found | × fundus | × baseline | × (cores × ceiling) |"
)
CRAWLERS = {"fundus": "fundus 0.5.7", "newscrawl": "newscrawl", "baseline": "baseline"}


def table(crawls: Sequence[CrawlRun], ceilings: Sequence[CeilingRun]) -> list[str]:
    lines = [HEADER, _rule()]
    for database in dict.fromkeys(c.database for c in crawls):
        vs_baseline, vs_ceiling = ratios(crawls, ceilings, database)
        for crawler in _crawlers(crawls):
            runs = [c for c in crawls if c.crawler == crawler and c.database == database]
            if not runs:
                continue
            mine = crawler == "newscrawl"
            vs_fundus = per_repeat(crawls, database, "fundus", lambda r: r.pages_per_second,
                                   crawler)  # fmt: skip
            where = "no database, JSON lines" if database == NO_DATABASE else database
            lines.append(
                f"| {CRAWLERS.get(crawler, crawler)} · {where} "
                f"| {_column(runs, lambda r: r.pages_per_second, '.1f')} "
                f"| {_column(runs, lambda r: r.wall, '.1f')} "
                f"| {_column(runs, lambda r: r.cpu_per_page * 1000, '.1f')} "
                f"| {_column(runs, lambda r: r.tree_rss / MB or None, '.0f')} "
                f"| {_column(runs, lambda r: r.processes or None, '.0f')} "
                f"| {_column(runs, lambda r: r.main_rss / MB, '.0f')} "
                f"| {_column(runs, lambda r: r.worker_rss / MB or None, '.0f')} "
                f"| {_column(runs, lambda r: _percent(r.write_share), '.1f')} "
                f"| {_column(runs, lambda r: r.main_cpu / r.wall * 100, '.0f')} "
                f"| {_stored(runs)} "
                f"| {_column(runs, lambda r: r.stories, '.0f')} of {runs[0].expected} "
                f"| {_spread(vs_fundus, '.2f') if is_newscrawl(crawler) else '–'} "
                f"| {_spread(vs_baseline, '.2f') if mine else '–'} "
                f"| {_spread(vs_ceiling, '.2f') if mine else '–'} |"
            )
    if ceilings:
        pps = [c.pages_per_second for c in ceilings]
        cpu = [c.cpu_per_page * 1000 for c in ceilings]
        lines.append(
            f"| ceiling: trafilatura alone, 1 process, {ceilings[0].pages} pages "
            f"| {_spread(pps, '.1f')} per core | {_spread([c.wall for c in ceilings], '.1f')} "
            f"| {_spread(cpu, '.1f')} |" + " – |" * (HEADER.count("|") - 5)
        )
    return lines


def _crawlers(crawls: Sequence[CrawlRun]) -> list[str]:
    """fundus, newscrawl, its variants in the order they ran, the baseline."""
    variants = [c.crawler for c in crawls if c.crawler not in CRAWLERS]
    return ["fundus", "newscrawl", *dict.fromkeys(variants), "baseline"]


def versus(crawls: Sequence[CrawlRun]) -> list[str]:
    """This checkout against each variant, per repeat (medians, min–max): side by side."""
    lines = []
    for database in dict.fromkeys(c.database for c in crawls):
        for other in _crawlers(crawls):
            if other in CRAWLERS:
                continue
            parts = [
                f"{name} {_spread(per_repeat(crawls, database, other, value), '.2f')}×"
                for name, value in (
                    ("pages/s", lambda r: r.pages_per_second),
                    ("CPU/page", lambda r: r.cpu_per_page),
                    ("tree peak RSS", lambda r: r.tree_rss),
                )
            ]  # fmt: skip
            if any(c.crawler == other and c.database == database for c in crawls):
                lines.append(f"- {database}: newscrawl vs {other}: {', '.join(parts)}")
    return lines


def downloads(crawls: Sequence[CrawlRun]) -> list[str]:
    """Article pages downloaded more than once, per crawler (median over its runs)."""
    parts = []
    for crawler in _crawlers(crawls):
        label = CRAWLERS.get(crawler, crawler)
        runs = [c for c in crawls if c.crawler == crawler]
        if runs:
            again = [c.article_downloads - c.distinct_article_downloads for c in runs]
            parts.append(f"{label} {statistics.median(again):.0f}")
    return [f"- article pages downloaded more than once (median of runs): {', '.join(parts)}"]


def _rule() -> str:
    return "|" + "---|" * (HEADER.count("|") - 1)


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _stored(runs: Sequence[CrawlRun]) -> str:
    stored = sorted({f"{r.stored}/{r.expected}" for r in runs})
    return ", ".join(stored)


def targets(crawls: Sequence[CrawlRun], ceilings: Sequence[CeilingRun]) -> list[str]:
    """The issues' targets, each with its measured median and whether it is met."""
    lines = []
    ceiling_cpu = statistics.median(c.cpu_per_page for c in ceilings) if ceilings else None
    with_fundus = any(c.crawler == "fundus" for c in crawls)
    for database in dict.fromkeys(c.database for c in crawls):
        runs = [c for c in crawls if c.crawler == "newscrawl" and c.database == database]
        if not runs:
            continue
        vs_baseline, _ = ratios(crawls, ceilings, database)
        tree_limit = 250.0 if runs[0].expected < 10_000 else 300.0
        checks: list[tuple[str, float | None, float, bool]] = [
            ("pages/s vs baseline ≥ 2.5×", _median(vs_baseline), 2.5, True),
            ("CPU/page vs ceiling ≤ 1.0×", _ratio(_median([r.cpu_per_page for r in runs]),
                                                   ceiling_cpu), 1.0, False),
            ("DB write share < 10%", _median([_percent(r.write_share) for r in runs]), 10.0,
             False),
            ("main peak RSS < 300 MB (target at N = 20,000)",
             _median([r.main_rss / MB for r in runs]), 300.0, False),
            (f"tree peak RSS ≤ {tree_limit:.0f} MB (issue 18: 250 at N = 2,000, 300 at "
             "20,000)", _median([r.tree_rss / MB for r in runs]), tree_limit, False),
            ("stories found / expected = 1 (every story)",
             _median([r.stories / r.expected for r in runs]), 1.0, True),
        ]  # fmt: skip
        if with_fundus:
            checks += [
                ("pages/s vs fundus ≥ 1.5×", _median(per_repeat(
                    crawls, database, "fundus", lambda r: r.pages_per_second)), 1.5, True),
                ("CPU/page vs fundus ≤ 0.6×", _median(per_repeat(
                    crawls, database, "fundus", lambda r: r.cpu_per_page)), 0.6, False),
            ]  # fmt: skip
        for name, measured, limit, at_least in checks:
            if measured is None:
                lines.append(f"- {database}: {name}: not measured")
                continue
            met = measured >= limit if at_least else measured <= limit
            lines.append(f"- {database}: {name}: {measured:.2f} → {'met' if met else 'MISSED'}")
    return lines


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b
