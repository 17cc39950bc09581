"""``scrapy crawl`` with one-line errors for bad arguments and an exit status cron can read.

Scrapy's own crawl command exits 0 whenever the crawl started; cron and
monitoring need to know whether it *worked*, so this one reads the crawl's
final stats. Exit statuses (documented in the README):

* 0 the crawl finished and stored everything it extracted
* 1 the crawl failed: interrupted, database unreachable, no source of any selected
  portal answered, or items lost (neither the database nor the dead-letter file took them)
* 2 bad arguments or settings (unknown site, unreadable registry)
* 3 items could not be written and wait in the dead-letter file
* 75 another crawl holds this database's lock, or (NEWSCRAWL_REDIS_URL) a cluster run
  with other arguments is going on (EX_TEMPFAIL: try again later)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from newscrawl.cluster import ClusterUnavailable, check_settings, cluster_lock
from newscrawl.cluster.config import CLUSTER_SOURCES_ANSWERED
from newscrawl.commands import startup
from newscrawl.dates import parse_since
from newscrawl.limits import parse_max_articles
from newscrawl.logs import redact
from newscrawl.network import DEFAULT_SITES_PATH, Network, RegistryError
from newscrawl.processes import check_process_settings
from newscrawl.progress.report import sources_answered
from newscrawl.store import StoreError
from newscrawl.store.engine import database_url
from newscrawl.store.health import flagged_portals
from newscrawl.store.lock import LockHeld

RESUMABLE_DUPEFILTER = "newscrawl.resume.ResumableDupeFilter"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DEADLETTER, EXIT_LOCKED = 0, 1, 2, 3, 75
# A run that stopped at a limit it was given did what was asked: the next run goes on.
SUCCESS_REASONS = frozenset(
    {"finished", "max_articles", "closespider_itemcount", "closespider_timeout",
     "closespider_pagecount"}
)  # fmt: skip


def exit_status(stats: Mapping[str, Any]) -> int:
    return exit_reason(stats)[0]


def exit_reason(stats: Mapping[str, Any]) -> tuple[int, str | None]:
    """The exit status and, when it is not 0, why: the summary line's ``reason=``."""
    if stats.get("newscrawl/store/lost", 0):  # not even the dead-letter file took them
        return EXIT_FAILED, "items_lost"
    if stats.get("newscrawl/store/deadletter", 0):
        return EXIT_DEADLETTER, "deadletter"
    if stats.get("newscrawl/store/unreachable", 0):
        return EXIT_FAILED, "database_unreachable"
    finish_reason = stats.get("finish_reason")
    if finish_reason is None:  # the engine never finished: stopped while it was opening
        return EXIT_FAILED, "interrupted"
    if finish_reason not in SUCCESS_REASONS:
        return EXIT_FAILED, "interrupted" if finish_reason == "shutdown" else str(finish_reason)
    # A cluster worker judges by the whole run's sources (ClusterWorker counts them):
    # the queue may have handed it nothing but the one broken sitemap.
    sources_ok = max(sources_answered(stats), stats.get(CLUSTER_SOURCES_ANSWERED, 0))
    if sources_ok == 0 and stats.get("newscrawl/source/failed", 0):
        return EXIT_FAILED, "no_source_answered"
    return EXIT_OK, None


def summary(
    stats: Mapping[str, Any],
    status: int,
    reason: str | None = None,
    flagged: Sequence[str] = (),
) -> str:
    """The run in one line, the last of the log: what cron mails and people grep;
    ``flagged=`` the portals the health check flags (``newscrawl health`` says why),
    a failed run ends with ``reason=`` (``exit_reason``)."""

    def count(*keys: str) -> int:
        return int(sum(stats.get(f"newscrawl/{key}", 0) for key in keys))

    return (
        f"newscrawl summary: new={count('store/new')} updated={count('store/updated')} "
        f"unchanged={count('store/unchanged')} duplicates={count('store/duplicate')} "
        f"failed={count('extract/failed', 'validate/failed', 'store/failed')} "
        f"deadletter={count('store/deadletter')} "
        + (f"lost={count('store/lost')} " if count("store/lost") else "")
        + f"duration={float(stats.get('elapsed_time_seconds', 0.0)):.1f}s "
        + (f"flagged={','.join(flagged)} " if flagged else "")
        + f"finish_reason={stats.get('finish_reason', 'unknown')} exit={status}"
        + (f" reason={reason}" if status and reason else "")
    )


def check_since(value: str) -> None:
    """``parse_since`` with every bad value a ``ValueError``: a duration reaching before
    year 1 (``since=99999999d``) overflowed with a traceback and exit 1."""
    try:
        parse_since(value)
    except OverflowError:
        raise ValueError(f"since={value!r} reaches outside the calendar") from None


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        # The first code of this command that Scrapy runs, so the earliest place for it.
        startup.install()
        super().process_options(args, opts)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider, e.g. 'scrapy crawl ippen'")
        assert self.settings is not None and self.crawler_process is not None
        try:
            network = Network.load(self.settings.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH)
            sites = opts.spargs.get("sites")
            network.select(sites.split(",") if sites is not None else None)
            if opts.spargs.get("since"):
                check_since(opts.spargs["since"])
            parse_max_articles(opts.spargs.get("max_articles"))
            check_settings(self.settings)
            check_process_settings(self.settings)
            # A malformed URL is a usage error (masked), before anything opens the store.
            database_url(self.settings.get("NEWSCRAWL_DATABASE_URL"))
        except (RegistryError, ValueError) as exc:
            self._error(exc, EXIT_USAGE)
            return
        # With JOBDIR a run's requests count as done only if it stopped cleanly
        # (newscrawl/resume.py). Set here at the default priority, not in settings.py:
        # there it would outrank the cluster add-on's Redis filter (add-on < project).
        self.settings.set("DUPEFILTER_CLASS", RESUMABLE_DUPEFILTER, priority="default")
        try:
            # Standalone: the database's lock; with NEWSCRAWL_REDIS_URL: join the cluster's run.
            with cluster_lock(self.settings, opts.spargs):
                self._crawl(args[0], opts)
        except LockHeld as exc:
            self._error(exc, EXIT_LOCKED)
        except ClusterUnavailable as exc:
            self._error(exc, EXIT_FAILED)
        except StoreError as exc:
            self._error(f"database: {exc}", EXIT_FAILED)
            # No crawl ran, so no stats: the summary line says why, in the log.
            logging.getLogger("newscrawl").error(
                "newscrawl summary: exit=%d reason=database_unreachable", EXIT_FAILED
            )

    def _error(self, message: object, status: int) -> None:
        print(f"newscrawl: error: {redact(str(message))}", file=sys.stderr)
        self.exitcode = status

    def _crawl(self, spider_name: str, opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        crawler = self._create_crawler(spider_name)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        stats = crawler.stats.get_stats()
        self.exitcode, reason = exit_reason(stats)
        if stats.get("newscrawl/cluster/redis_unavailable"):
            self.exitcode, reason = self.exitcode or EXIT_FAILED, reason or "redis_unreachable"
            self._error("Redis went away mid-run; this worker stopped", self.exitcode)
        flagged = self._flagged(stats)
        logging.getLogger("newscrawl").log(
            logging.INFO if self.exitcode == EXIT_OK else logging.ERROR,
            summary(stats, self.exitcode, reason, flagged),
        )

    def _flagged(self, stats: Mapping[str, Any]) -> list[str]:
        """The portals ``newscrawl health`` flags, each logged with its reasons: a portal
        that broke does not fail the crawl, so the summary is where cron sees it. Skipped
        when the run already found the database gone (a second wait on it says nothing)."""
        assert self.settings is not None
        log = logging.getLogger("newscrawl")
        if stats.get("newscrawl/store/unreachable") or stats.get("newscrawl/store/deadletter"):
            return []
        try:
            portals = flagged_portals(
                self.settings.get("NEWSCRAWL_DATABASE_URL"), datetime.now(UTC)
            )
        except StoreError as exc:
            log.warning("health check skipped: database: %s", exc)
            return []
        for portal in portals:
            log.warning("portal %s flagged: %s", portal.site, "; ".join(portal.problems))
        return [portal.site for portal in portals]
