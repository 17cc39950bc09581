"""``newscrawl search``, ``show`` and ``stats``: click's faces of ``newscrawl.cli.reading``
(the same code as ``scrapy articles``), and the options every reading command shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from newscrawl.cli import reading
from newscrawl.cli.reading import Reading

F = TypeVar("F", bound=Callable[..., Any])


def database_options(function: F) -> F:
    """``--database`` and ``--sites-file``: where to read, which registry names the portals."""
    function = click.option(
        "--sites-file",
        envvar="NEWSCRAWL_SITES",
        metavar="PATH",
        help="portal registry (TOML; default: the one shipped, or NEWSCRAWL_SITES)",
    )(function)
    return click.option(
        "--database",
        "-d",
        metavar="URL",
        help="database URL (default: NEWSCRAWL_DATABASE_URL, else sqlite:///data/news.db)",
    )(function)


def output_options(formats: tuple[str, ...] = ("table", "jsonl", "csv")) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        function = click.option(
            "--output", "-o", metavar="FILE", help="write to FILE instead of stdout"
        )(function)
        return click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="output format",
        )(function)

    return decorate


def window_options(function: F) -> F:
    """``--site``, ``--since``, ``--until``: which stories (by portal and publication)."""
    for option in reversed(
        [
            click.option("--site", metavar="DOMAIN", help="only this portal, e.g. fr.de"),
            click.option("--since", metavar="WHEN", help="published since: ISO date or 6h, 2d"),
            click.option("--until", metavar="WHEN", help="published until: ISO date (whole day)"),
        ]
    ):
        function = option(function)
    return function


def limit_option(default: int, what: str) -> Callable[[F], F]:
    return click.option("--limit", metavar="N", help=f"{what} (default {default})")


@click.command(short_help="Full-text search of the stored stories.")
@click.argument("words", nargs=-1)
@window_options
@click.option("--section", metavar="NAME", help="only stories in this section")
@click.option("--author", metavar="NAME", help="only stories by this author")
@click.option("--paywall", metavar="yes|no", help="only paid (yes) or free (no) stories")
@limit_option(reading.DEFAULT_LIMITS["search"], "rows")
@output_options()
@database_options
def search(words: tuple[str, ...], fmt: str, **options: Any) -> int:
    """Full-text search of the stored stories, best match first; no words: the latest.

    \b
    Examples:
        newscrawl search Ambrosia
        newscrawl search 'Ambrosia -Pollen' --site fr.de --since 7d
        newscrawl search --author 'Simone Jung' --format jsonl | jq .title
        newscrawl search Wiesn --until 2024-09-30 --format csv -o wiesn.csv
    """
    options = Reading(format=fmt, **options)
    return reading.run(options, reading.search(options, list(words)))


@click.command(short_help="One story in full, by URL or id.")
@click.argument("ref", metavar="URL|ID")
@output_options(("table", "jsonl"))
@database_options
def show(ref: str, fmt: str, **options: Any) -> int:
    """One story in full: by any URL it was published under, its online id or row id,
    with every publication and stored version.

    \b
    Examples:
        newscrawl show 93036630
        newscrawl show https://www.merkur.de/ratgeber/wohnen/ambrosia-zr-93036630.html
        newscrawl show 93036630 --format jsonl | jq '.urls[].url'
    """
    options = Reading(format=fmt, **options)
    return reading.run(options, reading.show(options, ref))


@click.command(short_help="Statistics of the store.")
@click.argument("names", nargs=-1, metavar="[days|sections|authors|syndicated|runs]...")
@window_options
@limit_option(reading.DEFAULT_LIMITS["stats"], "rows per table; days: the latest N days")
@output_options()
@database_options
def stats(names: tuple[str, ...], fmt: str, **options: Any) -> int:
    """Statistics of the store: stories per day and portal, sections, top authors,
    stories on more than one portal, the last crawl runs (all, or the tables named).

    \b
    Examples:
        newscrawl stats
        newscrawl stats days --limit 7
        newscrawl stats authors --site fr.de --since 30d
        newscrawl stats syndicated --format csv -o syndicated.csv
    """
    options = Reading(format=fmt, **options)
    return reading.run(options, reading.statistics(options, list(names)))
