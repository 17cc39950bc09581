"""``newscrawl crawl`` and ``newscrawl db``: the commands that write.

``crawl`` is ``scrapy crawl ippen``, run in this process through Scrapy's own entry point
(``scrapy.cmdline.execute``) with ``SCRAPY_SETTINGS_MODULE=newscrawl.settings``: the same
command class (``newscrawl.commands.crawl``), settings, arguments and exit statuses, and it
works outside a checkout, where no scrapy.cfg names the project. ``db`` is
``python -m newscrawl.store`` (``newscrawl.store.maintenance``). Scrapy and Alembic are
imported inside the commands, never at import time: the reading commands share this
process's start-up.
"""

from __future__ import annotations

import os

import click

SETTINGS_MODULE = "newscrawl.settings"


def scrapy_argv(
    spider: str,
    arguments: tuple[str, ...],
    settings: tuple[str, ...],
    sites: str | None,
    since: str | None,
    log_level: str | None,
) -> list[str]:
    """The ``scrapy crawl`` command line for these options (pure: tested as a table)."""
    argv = ["scrapy", "crawl", spider]
    for name, value in (("sites", sites), ("since", since)):
        if value is not None:
            argv += ["-a", f"{name}={value}"]
    for argument in arguments:
        argv += ["-a", argument]
    for setting in settings:
        argv += ["-s", setting]
    if log_level is not None:
        argv += ["--loglevel", log_level]
    return argv


@click.command(short_help="Crawl the network (scrapy crawl ippen).")
@click.option("--sites", metavar="A,B", help="only these portals (-a sites=...), e.g. fr.de")
@click.option("--since", metavar="WHEN", help="only stories since: ISO date or 6h, 2d (-a since)")
@click.option(
    "--database",
    metavar="URL",
    help="database URL (sets NEWSCRAWL_DATABASE_URL, which is the default)",
)
@click.option("-a", "arguments", multiple=True, metavar="NAME=VALUE", help="spider argument")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting")
@click.option("--loglevel", "-L", "log_level", metavar="LEVEL", help="log level (default INFO)")
@click.option(
    "--spider",
    default="ippen",
    show_default=True,
    metavar="NAME",
    help="ippen (the portals' sources), or ippen-archive (re-extract kept WARC files)",
)
def crawl(
    sites: str | None,
    since: str | None,
    database: str | None,
    arguments: tuple[str, ...],
    settings: tuple[str, ...],
    log_level: str | None,
    spider: str,
) -> int:
    """Crawl the network and store new and updated stories: `scrapy crawl ippen`, the same
    arguments (as options or -a), settings (-s) and exit statuses (0 done, 1 failed,
    2 bad arguments, 3 items wait in the dead-letter file, 75 another crawl is running).

    \b
    Examples:
        newscrawl crawl
        newscrawl crawl --sites fr.de,merkur.de --since 2d
        newscrawl crawl -a sites=fr.de -s CLOSESPIDER_ITEMCOUNT=100
        newscrawl crawl --database postgresql://crawler@db/news -s NEWSCRAWL_PROGRESS_SECONDS=30
        newscrawl crawl -s NEWSCRAWL_METRICS_FILE=/var/lib/node_exporter/newscrawl.prom
    """
    from newscrawl.commands import startup

    startup.install()  # before Scrapy's imports: Ctrl-C from here on is one line, exit 1
    # The URL travels in the environment, not as -s: a command line is visible to every
    # user of the machine (ps), and settings.py reads the variable.
    from newscrawl.store.engine import DATABASE_URL_ENV

    if database is not None:
        os.environ[DATABASE_URL_ENV] = database
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    from scrapy.cmdline import execute

    # execute() ends the process with the command's exit status.
    execute(scrapy_argv(spider, arguments, settings, sites, since, log_level))
    return 0  # not reached


@click.group(short_help="Upgrade the schema, index, reimport dead letters, re-extract.")
def db() -> None:
    """Look after the database: create or upgrade its schema, fill the search index,
    store the items of a dead-letter file (`python -m newscrawl.store`).

    \b
    Examples:
        newscrawl db upgrade
        newscrawl db upgrade postgresql://crawler@db/news
        newscrawl db index
        newscrawl db reimport data/deadletter.jsonl
        newscrawl db reextract --warc data/warc
    """


@db.command()
@click.argument("url", required=False)
def upgrade(url: str | None) -> int:
    """Create or upgrade the schema to the newest revision (URL: default
    NEWSCRAWL_DATABASE_URL, else sqlite:///data/news.db).

    \b
    Example:
        newscrawl db upgrade sqlite:///data/news.db
    """
    from newscrawl.store import maintenance

    return maintenance.guarded(lambda: maintenance.upgrade(url), "newscrawl: error")


@db.command()
@click.argument("url", required=False)
def index(url: str | None) -> int:
    """PostgreSQL: index for search the stories a crawl left unindexed (it was cut short).

    \b
    Example:
        newscrawl db index postgresql://crawler@db/news
    """
    from newscrawl.store import maintenance

    return maintenance.guarded(lambda: maintenance.index(url), "newscrawl: error")


@db.command()
@click.argument("path")
@click.option("--database", metavar="URL", help="the database the file was meant for")
@click.option("--into", metavar="URL", help="store the items in this database instead")
def reimport(path: str, database: str | None, into: str | None) -> int:
    """Store the items of a dead-letter file in the database each line names (or
    --into another); the file is archived once every item went in.

    \b
    Examples:
        newscrawl db reimport data/deadletter.jsonl
        newscrawl db reimport data/deadletter.jsonl --into sqlite:///data/copy.db
    """
    if database and into:
        raise click.UsageError("--database and --into exclude each other")
    from newscrawl.store import maintenance

    return maintenance.guarded(
        lambda: maintenance.reimport(path, database, into), "newscrawl: error"
    )


@db.command()
@click.option("--warc", required=True, metavar="PATH[,PATH...]", help="WARC files, folders, globs")
@click.option("--site", metavar="DOMAIN", help="only stories of this portal")
@click.option("--since", metavar="WHEN", help="only stories fetched since (2024-04-26, 2d)")
@click.option("--database", metavar="URL", help="database URL")
def reextract(warc: str, site: str | None, since: str | None, database: str | None) -> int:
    """Run the current extractor over the archived pages of stored stories and update
    their extracted fields in place (no new versions); prints what changed.

    \b
    Examples:
        newscrawl db reextract --warc data/warc
        newscrawl db reextract --warc data/warc --site fr.de --since 2024-04-01
    """
    from newscrawl.archive import reextract as runner
    from newscrawl.store import maintenance

    return maintenance.guarded(lambda: runner.run(database, warc, site, since), "newscrawl: error")
