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
from newscrawl.cli.reading import EXIT_INTERRUPTED, EXIT_USAGE, fail

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # click's version_option raises a RuntimeError (a traceback) when the package is not
    # installed, as in a checkout run with python -m newscrawl.cli.
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        click.echo(f"newscrawl {version('newscrawl')}")
    except PackageNotFoundError:
        click.echo("newscrawl (not installed: run from a checkout)")
    ctx.exit(0)


@click.group(context_settings=CONTEXT)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
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
        status = fail(exc.format_message(), exc.exit_code or EXIT_USAGE)
    except click.Abort:  # Ctrl-C while click itself was reading input
        print("newscrawl: interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    sys.exit(status if isinstance(status, int) else 0)
