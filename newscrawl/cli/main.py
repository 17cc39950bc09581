"""The ``newscrawl`` command: one entry point for crawling and for reading the store.

Built with click, after sqlite-utils' command line: one subcommand per task, each with its
own ``--help`` and examples. Subcommands are registered here; their bodies live next door
(``reading`` for search/show/stats, ``analysis`` for export/health/sites, ``admin`` for
crawl and db). The read-only ones never import Scrapy, Twisted or Alembic (the crawl and
the schema migrations bring them in only when those commands run), so they start in a
fraction of a second.

Every error is one line on stderr, ``newscrawl: error: ...``, with passwords masked; click's
own usage errors too (its default is a usage block, which cron mails would bury).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from newscrawl.cli import admin, analysis, queries
from newscrawl.cli.reading import EXIT_INTERRUPTED, EXIT_USAGE
from newscrawl.store.engine import redact

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="newscrawl", message="%(prog)s %(version)s")
def cli() -> None:
    """Crawl the Ippen Digital news network and read the stories it stored.

    \b
    The database is NEWSCRAWL_DATABASE_URL (default sqlite:///data/news.db),
    or --database for the reading commands. Examples:
        newscrawl crawl --sites fr.de,merkur.de
        newscrawl search Ambrosia --site fr.de
        newscrawl show 93036630
        newscrawl health --days 14
        newscrawl export --format parquet -o stories.parquet --since 7d
    """


for command in (
    admin.crawl,
    queries.search,
    queries.show,
    queries.stats,
    analysis.export,
    analysis.sites,
    analysis.health,
    admin.db,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: run ``cli`` and exit with its status, errors on one line."""
    try:
        status = cli.main(args=argv, prog_name="newscrawl", standalone_mode=False)
    except click.ClickException as exc:
        print(f"newscrawl: error: {redact(exc.format_message())}", file=sys.stderr)
        status = exc.exit_code if exc.exit_code else EXIT_USAGE
    except click.Abort:  # Ctrl-C while click itself was reading input
        print("newscrawl: interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    sys.exit(status if isinstance(status, int) else 0)
