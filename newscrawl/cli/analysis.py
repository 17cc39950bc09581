"""``newscrawl export``, ``health`` and ``sites``: the store for analysis and monitoring,
and the portal registry. Read-only, like ``search``: no Scrapy, Twisted or Alembic."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from newscrawl import output
from newscrawl.cli import reading
from newscrawl.cli.queries import database_options, output_options, window_options
from newscrawl.cli.reading import EXIT_FAILED, EXIT_OK, CommandError, Reading

if TYPE_CHECKING:
    from newscrawl.store.query import Database

SITE_COLUMNS = ("domain", "name", "base_url", "feeds", "sitemaps", "start_pages")


@click.command(short_help="Stream stories as JSON lines, CSV or Parquet.")
@window_options
@click.option(
    "--columns",
    metavar="A,B,...",
    help="only these columns, in this order (default: every column)",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("jsonl", "csv", "parquet")),
    default="jsonl",
    show_default=True,
    help="jsonl (pandas.read_json(lines=True)), csv, or parquet (needs newscrawl[parquet])",
)
@click.option("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
@database_options
def export(fmt: str, columns: str | None, **options: Any) -> int:
    """Every stored story (or those of a portal and publication window), streamed in
    constant memory for pandas, DuckDB or Hugging Face datasets.

    \b
    Examples:
        newscrawl export -o stories.jsonl
        newscrawl export --site fr.de --since 2024-04-01 --until 2024-04-30 -f csv -o april.csv
        newscrawl export --format parquet -o stories.parquet
        newscrawl export --columns url,published_at,title,authors | jq .title
        duckdb -c "SELECT site, count(*) FROM 'stories.parquet' GROUP BY site"
    """
    # Checked before the database is opened: a typo costs no query.
    options = Reading(format="table", **options)

    def action(engine: Database) -> None:
        from newscrawl.store import export as exporting

        try:
            names = exporting.check_columns((columns or "").split(","))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        filters = options.filters(engine)
        rows = exporting.stream_articles(engine, filters, names)
        with reading.opened(options.output, binary=fmt == "parquet") as out:
            if fmt == "parquet":
                try:
                    output.write_parquet(rows, exporting.column_kinds(names), out)
                except output.ParquetUnavailable as exc:
                    raise CommandError(str(exc)) from None
            elif fmt == "csv":
                output.write_csv(rows, names, out)
            else:
                output.write_jsonl(rows, out)

    return reading.run(options, action)


@click.command(short_help="Flag portals whose output dropped or degraded.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=14,
    show_default=True,
    help="baseline: the days before the recent ones, each portal's usual output",
)
@click.option(
    "--recent",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="the last days, compared with the baseline",
)
@output_options()
@database_options
def health(days: int, recent: int, fmt: str, **options: Any) -> int:
    """Per portal: stories per day, and the share with authors, a date and a lead, and
    the median words, over the last --recent days against the --days before them.

    Flags a portal whose output dropped to zero, or whose extraction degraded (authors,
    a date or a lead on fewer than half as many stories as usual, median words halved).
    Exit status 1 when any portal is flagged, 0 otherwise: made for cron and monitoring.

    \b
    Examples:
        newscrawl health
        newscrawl health --days 28 --recent 1
        newscrawl health --format jsonl | jq 'select(.status != "ok")'
    """
    options = Reading(format=fmt, **options)
    flagged: list[str] = []

    def action(engine: Database) -> None:
        from newscrawl.store import health as portal_health

        portals = portal_health.health(engine, datetime.now(UTC), recent, days)
        flagged.extend(portal.site for portal in portals if portal.problems)
        with reading.opened(options.output) as out:
            output.write_rows(
                [portal.row() for portal in portals], fmt, out, columns=portal_health.COLUMNS
            )

    status = reading.run(options, action)
    if status == EXIT_OK and flagged:
        print(f"newscrawl: flagged: {', '.join(flagged)}", file=sys.stderr)
        return EXIT_FAILED
    return status


@click.command(short_help="List and check the portal registry.")
@click.option(
    "--sites-file",
    envvar="NEWSCRAWL_SITES",
    metavar="PATH",
    help="portal registry (TOML; default: the one shipped, or NEWSCRAWL_SITES)",
)
@output_options()
def sites(sites_file: str | None, fmt: str, **options: Any) -> int:
    """List the portals of the registry, and check it: a malformed registry is a one-line
    error and exit status 2.

    \b
    Examples:
        newscrawl sites
        newscrawl sites --format csv
        newscrawl sites --sites-file my-sites.toml
    """
    try:
        network = reading.registry(sites_file)
        rows = [
            {
                "domain": site.domain,
                "name": site.name,
                "base_url": site.base_url,
                "feeds": len(site.feeds),
                "sitemaps": len(site.sitemaps),
                "start_pages": len(site.start_pages),
            }
            for site in network.sites
        ]
        with reading.opened(options["output"]) as out:
            output.write_rows(rows, fmt, out, columns=SITE_COLUMNS)
    except CommandError as exc:
        return reading.fail(str(exc), exc.status)
    return EXIT_OK
