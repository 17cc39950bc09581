"""Scrapy settings of newscrawl: every NEWSCRAWL_* setting and its default lives here.

Override any of them with ``scrapy crawl ippen -s NAME=value``; the two that
name places (registry and database) also read an environment variable.
"""

from __future__ import annotations

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

# --- newscrawl ----------------------------------------------------------------------

# Path of the portal registry (TOML, see README "The registry"); empty means the
# one shipped in the package, newscrawl/sites.toml.
NEWSCRAWL_SITES = os.environ.get("NEWSCRAWL_SITES", "")

# Where articles are stored: any SQLAlchemy URL, e.g.
# postgresql+psycopg://user:password@host/db. The password is never logged.
NEWSCRAWL_DATABASE_URL = os.environ.get("NEWSCRAWL_DATABASE_URL", "sqlite:///data/news.db")

# Extraction worker processes; 0 means one per CPU core.
NEWSCRAWL_EXTRACT_WORKERS = 0
# Added to the extraction workers' nice value (0 to 19; 0: none), so that the crawl process
# and the store's writer, which the workers would otherwise keep waiting for a core, run first.
NEWSCRAWL_EXTRACT_NICENESS = 10

# An extracted body with fewer words than this is not an article (a gallery, a video page).
NEWSCRAWL_MIN_WORDS = 20

# Store batching: items are written in one transaction per batch, when the
# batch is full or this many seconds after its first item, whichever is first.
NEWSCRAWL_STORE_BATCH_SIZE = 500
NEWSCRAWL_STORE_FLUSH_SECONDS = 5.0

# A batch the database refuses is retried this many times, waiting BACKOFF seconds
# first and twice as long each time after.
NEWSCRAWL_STORE_RETRIES = 4
NEWSCRAWL_STORE_BACKOFF = 1.0

# Items the database would not take after the retries go here, one JSON object
# a line; `python -m newscrawl.store reimport FILE` puts them back.
NEWSCRAWL_DEADLETTER_PATH = "data/deadletter.jsonl"

# Incremental runs (newscrawl/incremental.py): skip what the store holds unless its
# source dates it later, and source entries older than the window. The window
# applies when the store already has articles and no -a since= is given; a run on
# an empty store is a backfill of everything the sources list.
NEWSCRAWL_INCREMENTAL = True
NEWSCRAWL_INCREMENTAL_WINDOW_HOURS = 72.0
# A page that could not be stored (broken, empty, not an article) is not fetched again
# for this long, unless its source dates it later.
NEWSCRAWL_RETRY_REJECTED_HOURS = 24.0

# --- several machines (newscrawl/cluster, README "Running on several machines") -----

# Redis of the shared crawl, e.g. redis://127.0.0.1:6379/0: set, this crawl is a worker
# of the cluster (shared scrapy-redis queue and duplicate filter, run lock and politeness
# in Redis; the store must be PostgreSQL). Empty: a standalone crawl, nothing changes.
NEWSCRAWL_REDIS_URL = os.environ.get("NEWSCRAWL_REDIS_URL", "")
# Prefix of every Redis key of the cluster: several clusters (or tests) can share a Redis.
NEWSCRAWL_CLUSTER_PREFIX = "newscrawl"
# Politeness per portal for the whole cluster, however many workers: requests a second,
# tokens a quiet portal may save up, and downloads in flight at once.
NEWSCRAWL_CLUSTER_RATE_PER_PORTAL = 2.0
NEWSCRAWL_CLUSTER_BURST = 1.0
NEWSCRAWL_CLUSTER_CONCURRENCY_PER_PORTAL = 4
# Off (NotConfigured) unless NEWSCRAWL_REDIS_URL is set.
ADDONS = {"newscrawl.cluster.RedisClusterAddon": 0}

# --- politeness ---------------------------------------------------------------------

# Identify the crawler; operators should add a contact address.
USER_AGENT = "newscrawl/0.1 (+https://github.com/newscrawl/newscrawl)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2

# --- pipeline -----------------------------------------------------------------------

# Outputs of one response processed at once (Scrapy's default is 100). Scrapy starts
# that many asyncio tasks for every response, whatever it yields; an article page
# yields one item and a dozen link requests, so 100 tasks a page were ~6 % of the
# crawl process's CPU in a profile, for nothing. Requests are scheduled without
# waiting, so this bounds only items of one page in the pipelines: never more than one.
CONCURRENT_ITEMS = 4
ITEM_PIPELINES = {
    "newscrawl.pipelines.extract.ExtractPipeline": 100,
    "newscrawl.pipelines.validate.ValidatePipeline": 200,
    "newscrawl.pipelines.store.StorePipeline": 300,
}
DOWNLOADER_MIDDLEWARES = {
    # After Scrapy's RedirectMiddleware (600): sees an article's 3xx before it is followed.
    "newscrawl.incremental.IncrementalRedirectMiddleware": 650,
}
SPIDER_MIDDLEWARES = {
    # Between the spider and the scheduler's duplicate filter (see its docstring).
    "newscrawl.incremental.IncrementalMiddleware": 950,
}
EXTENSIONS = {
    "newscrawl.logs.LogRules": 0,
}
LOG_FORMATTER = "newscrawl.logs.NewscrawlLogFormatter"
LOG_LEVEL = "INFO"
# Neither a telnet console nor Scrapy's remote-control HTTP server (which runs posted
# Python code) belongs in an unattended cron job.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
