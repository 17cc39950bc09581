"""Scrapy settings of newscrawl: every NEWSCRAWL_* setting and its default lives here.

Override any of them with ``scrapy crawl ippen -s NAME=value``; the two that
name places (registry and database) also read an environment variable.
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

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

# Extraction worker processes; 0 means none: pages are extracted in the crawl process,
# which measured lighter and cheaper, and no slower, on 2 cores (pipelines/extract.py).
NEWSCRAWL_EXTRACT_WORKERS = 0
# Added to the extraction workers' nice value (0 to 19; 0: none), so that the crawl process
# and the store's writer, which the workers would otherwise keep waiting for a core, run first.
NEWSCRAWL_EXTRACT_NICENESS = 10
# Where the store's batches are written: "thread" (a thread of the crawl process) or
# "process" (a writer process of its own, started by a fork server); store/writer.py.
NEWSCRAWL_STORE_WRITER = "thread"
# The crawl process's garbage collector: its young generation is collected every this
# many allocations, and what the imports made is never scanned (pipelines/collector.py);
# 0 keeps Python's defaults.
NEWSCRAWL_GC_THRESHOLD = 10000

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
# applies once a run without -a since= has finished (crawl_runs); until then every
# run is a backfill of everything the sources list.
NEWSCRAWL_INCREMENTAL = True
NEWSCRAWL_INCREMENTAL_WINDOW_HOURS = 72.0
# A page that could not be stored (broken, empty, not an article) is not fetched again
# for this long, unless its source dates it later.
NEWSCRAWL_RETRY_REJECTED_HOURS = 24.0

# Revisits (newscrawl/revisit.py): each run asks again, with If-None-Match/If-Modified-Since,
# for the stored stories published or modified in the last REVISIT_HOURS (live tickers and
# breaking news change for hours; feeds date them by publication only), at most REVISIT_MAX
# of them, newest first. A 304 costs one request, no extraction, no write. 0 in either: off.
NEWSCRAWL_REVISIT_HOURS = 6.0
NEWSCRAWL_REVISIT_MAX = 200

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

# --- progress (newscrawl/progress.py, README "Progress") ------------------------------

# On a terminal (stderr is a TTY), a status line redrawn in place every REFRESH seconds:
# elapsed, pages fetched and pages/s, stories new/updated, requests queued, busiest portals.
# False: no live line, the log line below instead.
NEWSCRAWL_PROGRESS_LIVE = True
NEWSCRAWL_PROGRESS_REFRESH = 1.0
# Where the log does not go to that terminal (cron, a pipe, LOG_FILE), the same line is
# logged every this many seconds, in place of Scrapy's LogStats line; 0: none. The
# per-portal table at the end of the crawl is logged either way.
NEWSCRAWL_PROGRESS_SECONDS = 60.0
# Portals named in the line: the busiest (most pages fetched) this many.
NEWSCRAWL_PROGRESS_PORTALS = 3

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
RETRY_TIMES = 2

# --- hostile sources: every response bounded in size and time -----------------------
# (README "Limits"; tests/test_hostile_sources.py proves each against the mock network)

# Largest article or listing page, after decompression (Scrapy: 1 GiB). The network's
# pages are 100 to 600 KB; anything past 10 MiB is not a news page. Scrapy cancels the
# download there (or refuses a Content-Length above it before reading), and its
# HttpCompressionMiddleware stops inflating a Content-Encoding body at the same size.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
# A page past this is logged as a warning but kept.
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Sitemaps and feeds get their own bound (request meta download_maxsize): 50 MiB is the
# sitemap protocol's own limit for one file, uncompressed; SitemapSpider stops inflating
# an .xml.gz at it too. A source past the warning size is logged and kept.
NEWSCRAWL_SOURCE_MAXSIZE = 50 * 1024 * 1024
NEWSCRAWL_SOURCE_WARNSIZE = 10 * 1024 * 1024
# Feed items followed per feed; the rest are logged once and counted. A news feed lists
# 20 to 100 items; the cap keeps a feed of 100,000 from flooding the scheduler.
NEWSCRAWL_FEED_MAX_ITEMS = 500
# Seconds one response may take from request to last byte (Scrapy: 180): a server that
# trickles a page a byte a second is cut off here (and retried RETRY_TIMES).
DOWNLOAD_TIMEOUT = 30
# Redirects followed for one request (Scrapy: 20); a loop ends here. The network needs
# one (old slug -> current URL), two with a trailing-slash fix.
REDIRECT_MAX_TIMES = 5
# Longest URL requested (Scrapy's default, stated here): longer links are dropped and
# counted in urllength/request_ignored_count. The network's URLs are under 300 characters.
URLLENGTH_LIMIT = 2083
# Only HTTP(S): no file://, ftp://, s3:// or data: request, whatever a page links to.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
# Components of Scrapy's that newscrawl does not use, left out of Scrapy's own _BASE lists
# (the rest of each list stays Scrapy's, whatever its version). Scrapy's docs say to switch
# components off in DOWNLOADER_MIDDLEWARES and EXTENSIONS with None instead, but Scrapy
# imports every component named there, off or on; these imports cost every crawl a third of
# a second and ~10 MB: the remote control imports aiohttp, the cookie jar tldextract.
# No cookies: an article is the same page for every reader, and a crawl keeping a session
# per portal could see another variant of it run by run. The telnet console and the
# remote control (which runs posted Python code) have no place in a cron job.
_NOT_LOADED = {
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
}
DOWNLOADER_MIDDLEWARES_BASE = {
    path: order
    for path, order in _scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items()
    if path not in _NOT_LOADED
}
EXTENSIONS_BASE = {
    path: order
    for path, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if path not in _NOT_LOADED
}
DOWNLOADER_MIDDLEWARES = {
    # Origins (scheme, host, port) of the registry only, redirects and sources included.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "newscrawl.downloadermiddlewares.registry.RegistryOffsiteMiddleware": 50,
    # Scrapy 2.19's robots.txt middleware lets requests through while robots.txt loads.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newscrawl.downloadermiddlewares.robots.SharedRobotsTxtMiddleware": 100,
    # Scrapy's meta-refresh redirects (same place, same settings), decoding a page's head
    # only, not the whole page.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newscrawl.downloadermiddlewares.metarefresh.HeadMetaRefreshMiddleware": 580,
    # After Scrapy's RedirectMiddleware (600): sees an article's 3xx before it is followed.
    "newscrawl.incremental.IncrementalRedirectMiddleware": 650,
    # Last in the chain, next to the downloader: sees the raw bytes before decompression
    # (off unless NEWSCRAWL_WARC_DIR is set, see the WARC block below).
    "newscrawl.archive.middleware.WarcWriterMiddleware": 960,
}

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
    # -a max_articles=N: at most N stories to the store (newscrawl/limits.py).
    "newscrawl.limits.MaxArticlesPipeline": 250,
    "newscrawl.pipelines.store.StorePipeline": 300,
}
SPIDER_MIDDLEWARES = {
    # Between the spider and the scheduler's duplicate filter (see its docstring).
    "newscrawl.incremental.IncrementalMiddleware": 950,
    # Next to the spider's start(): young stored articles before its sources ("Revisits" above).
    "newscrawl.revisit.RevisitMiddleware": 960,
}
EXTENSIONS = {
    "newscrawl.logs.LogRules": 0,
    # A run's arguments resolved once and kept in spider.state (JOBDIR) for a resume; off in
    # a cluster run, where Redis keeps them (newscrawl/runargs.py).
    "newscrawl.runargs.RunArguments": 100,
    # Progress (the "progress" block above): its line replaces Scrapy's LogStats line.
    "newscrawl.progress.CrawlProgress": 500,
    "scrapy.extensions.logstats.LogStats": None,
    # The final stats as a Prometheus text file, off unless NEWSCRAWL_METRICS_FILE is set.
    "newscrawl.metrics.PrometheusMetrics": 900,
}
LOG_FORMATTER = "newscrawl.logs.NewscrawlLogFormatter"
LOG_LEVEL = "INFO"
# Neither a telnet console nor Scrapy's remote-control HTTP server (which runs posted
# Python code) belongs in an unattended cron job (and neither is loaded, see _NOT_LOADED).
TELNETCONSOLE_ENABLED = False
COOKIES_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"

# --- WARC archive (newscrawl/archive, spiders/archive.py; README "Keeping pages") ---------

# Folder where every article response the crawl fetches is kept as WARC (request and
# response records, the bytes as received): rotating newscrawl-<start>-<serial>.warc.gz
# files, one gzip member per record. Empty: off (the middleware is NotConfigured).
NEWSCRAWL_WARC_DIR = ""
# A new file is begun before a record would take the current one past this size.
NEWSCRAWL_WARC_MAX_BYTES = 1_000_000_000
# `scrapy crawl ippen-archive`: seconds between progress lines, and records read ahead of
# the pipelines (bounds memory: each holds a page; enough to keep every extraction worker busy).
NEWSCRAWL_ARCHIVE_PROGRESS_SECONDS = 30.0
NEWSCRAWL_ARCHIVE_IN_FLIGHT = 64

# --- what a run reaches (issue 14: since, sites, max_articles, resume) -----------------
# (newscrawl/spiders/scope.py, onlineids.py, limits.py, runargs.py)

# The network's id clock: "ID=ISO-DATE" points of the online-id counter (a date without an
# offset is Berlin's, as every date of the network), interpolated piecewise-linearly; empty
# means the network's own (onlineids.NETWORK_ANCHORS). An article link whose id dates it
# before since minus the margin is not requested.
NEWSCRAWL_ONLINE_ID_ANCHORS: list[str] = []
# Hours an id's estimate may be off (the anchors are month-granular): 30 days.
NEWSCRAWL_ONLINE_ID_MARGIN_HOURS = 720.0

# --- metrics (newscrawl/metrics.py, README "Monitoring") --------------------------------

# A Prometheus text file (node_exporter's textfile collector) that gets the crawl's final
# stats when it ends, written atomically. Empty: off (the extension is NotConfigured).
NEWSCRAWL_METRICS_FILE = os.environ.get("NEWSCRAWL_METRICS_FILE", "")
