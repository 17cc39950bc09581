"""Where the cluster's Redis is, how its keys are named, and the one-line errors of both.

No Redis client here (``connection.py`` has it): a standalone crawl reads these names
and checks, and must not pay for importing redis-py.

Every worker of a cluster derives the same key names from the same prefix and
run id, so the names live in one place; a cluster is a prefix on a Redis
server (several clusters can share one server, tests use their own prefix).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from scrapy.settings import BaseSettings

from newscrawl.logs import redact
from newscrawl.store.engine import database_url

REDIS_URL_SETTING = "NEWSCRAWL_REDIS_URL"
# Set by cluster_lock for the crawler it wraps: which run this worker is in, and its name.
RUN_SETTING = "NEWSCRAWL_CLUSTER_RUN"
WORKER_SETTING = "NEWSCRAWL_CLUSTER_WORKER"
CLUSTER_SOURCES_ANSWERED = "newscrawl/cluster/sources_answered"
"""Stat: sources that answered any worker of the run, as a worker saw it leave
(``worker.ClusterWorker``); the crawl command's exit status reads it."""


class ClusterUnavailable(RuntimeError):
    """Redis of the cluster cannot be reached; the message is one line."""


def redis_url(settings: BaseSettings) -> str:
    """The cluster's Redis URL, or "" for a standalone crawl (setting, then environment)."""
    return (settings.get(REDIS_URL_SETTING) or os.environ.get(REDIS_URL_SETTING) or "").strip()


def check_settings(settings: BaseSettings) -> None:
    """Raise ValueError (one line) for settings a cluster worker cannot run with.

    Workers on several machines write to one store, so it must be a server;
    a SQLite file is per machine and would silently split the crawl.
    """
    url = redis_url(settings)
    if not url:
        return
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"{REDIS_URL_SETTING} is not a redis:// URL: {redact(url)}")
    backend = database_url(settings.get("NEWSCRAWL_DATABASE_URL") or None).get_backend_name()
    if backend != "postgresql":
        raise ValueError(
            f"{REDIS_URL_SETTING} needs a PostgreSQL store shared by all workers, "
            f"not {backend} (set NEWSCRAWL_DATABASE_URL=postgresql+psycopg://...)"
        )
    if "%" in prefix(settings):
        raise ValueError("NEWSCRAWL_CLUSTER_PREFIX must not contain '%'")


def prefix(settings: BaseSettings) -> str:
    return settings.get("NEWSCRAWL_CLUSTER_PREFIX") or "newscrawl"


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Keys:
    """Key names of one cluster (``prefix``) and, for the run-scoped ones, one run."""

    prefix: str
    run: str = ""

    @property
    def current_run(self) -> str:
        return f"{self.prefix}:run"

    @property
    def run_base(self) -> str:
        return f"{self.prefix}:run:{self.run}"

    @property
    def requests(self) -> str:
        return f"{self.run_base}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.run_base}:dupefilter"

    @property
    def seeded(self) -> str:
        return f"{self.run_base}:seeded"

    @property
    def sources(self) -> str:
        """Hash: worker → sources that answered it (the run's verdict on its sources)."""
        return f"{self.run_base}:sources"

    @property
    def workers(self) -> str:
        return f"{self.run_base}:workers"

    def worker(self, name: str) -> str:
        return f"{self.run_base}:worker:{name}"

    def bucket(self, portal: str) -> str:
        # Politeness outlives runs: a new run must not burst a portal the last one just left.
        return f"{self.prefix}:politeness:{portal}:bucket"

    def leases(self, portal: str) -> str:
        return f"{self.prefix}:politeness:{portal}:leases"
