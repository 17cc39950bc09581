"""Command line of the store.

    python -m newscrawl.store upgrade [URL]
    python -m newscrawl.store index [URL]
    python -m newscrawl.store reimport [--database URL | --into URL] data/deadletter.jsonl
    python -m newscrawl.store reextract --warc DIR [--site S] [--since D] [--database URL]

URL defaults to ``NEWSCRAWL_DATABASE_URL`` or ``sqlite:///data/news.db``. ``reimport``
sends each dead letter home: to the database its line records (with the password of
``NEWSCRAWL_DATABASE_URL`` when that names the same database; else libpq's own, e.g.
``~/.pgpass``). ``--database`` must name that database; ``--into`` stores the items in
another one. The file is archived only when every item went in.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from collections.abc import Sequence

from newscrawl.store import (
    deadletter,
    display_url,
    index_pending,
    make_engine,
    migrate,
    write_batch,
)
from newscrawl.store.engine import DATABASE_URL_ENV, database_url, without_password

REIMPORT_BATCH = 500


def _upgrade(url: str | None) -> int:
    engine = make_engine(url)
    migrate(engine)
    print(f"{display_url(engine)}: schema is at the newest revision")
    return 0


def _index(url: str | None) -> int:
    engine = make_engine(url)
    migrate(engine)
    print(f"{display_url(engine)}: indexed {index_pending(engine)} stories for search")
    return 0


def _home(url: str) -> str:
    """A database URL without its password: how a dead-letter line names its database."""
    return without_password(url)


def _targets(path: str, database: str | None, into: str | None) -> dict[str, list[dict]]:
    """Database URL → the items of ``path`` to store there."""
    env = os.environ.get(DATABASE_URL_ENV)
    targets: dict[str, list[dict]] = {}
    for number, item in deadletter.read(path):
        recorded = item.pop(deadletter.DATABASE_KEY, None)
        if into:
            target = into
        elif database:
            if recorded and _home(recorded) != _home(database):
                raise ValueError(
                    f"{path}:{number} was meant for {display_url(recorded)}, not "
                    f"{display_url(database)}; use --into to store it there anyway"
                )
            target = database
        elif recorded:
            target = env if env and _home(env) == _home(recorded) else recorded
        else:  # written before dead letters named their database
            target = str(database_url(None).render_as_string(hide_password=False))
        targets.setdefault(target, []).append(item)
    return targets


def _reimport(path: str, database: str | None, into: str | None) -> int:
    totals: Counter[str] = Counter()
    for url, items in _targets(path, database, into).items():
        engine = make_engine(url)
        try:
            migrate(engine)
            for start in range(0, len(items), REIMPORT_BATCH):
                totals.update(write_batch(engine, items[start : start + REIMPORT_BATCH]).counts())
        finally:
            engine.dispose()
        print(f"{display_url(url)}: {len(items)} items from {path}")
    summary = ", ".join(f"{totals[key]} {key}" for key in sorted(totals) if totals[key])
    if totals["failed"]:
        print(f"re-imported {path} ({summary}); kept it: {totals['failed']} items did not go in")
        return 1
    target = deadletter.archive(path)
    print(f"re-imported {path} ({summary or 'no items'}); moved to {target}")
    return 0


def _reextract(args: argparse.Namespace) -> int:
    # Imported here: the runner pulls in Scrapy and the extractor, the other commands do not.
    from newscrawl.archive.reextract import reextract
    from newscrawl.dates import parse_since

    since = parse_since(args.since) if args.since else None
    report = reextract(args.database, args.warc, site=args.site, since=since)
    print("\n".join(report.lines()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newscrawl.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="create or upgrade the database schema")
    upgrade.add_argument("url", nargs="?", help="database URL")
    index = commands.add_parser(
        "index", help="PostgreSQL: index stories a crawl left unindexed (it was cut short)"
    )
    index.add_argument("url", nargs="?", help="database URL")
    reimport = commands.add_parser("reimport", help="store the items of a dead-letter file")
    where = reimport.add_mutually_exclusive_group()
    where.add_argument("--database", help="the database the file was meant for")
    where.add_argument("--into", metavar="URL", help="store the items in this database instead")
    reimport.add_argument("path", help="dead-letter file (JSON lines)")
    again = commands.add_parser(
        "reextract", help="run the current extractor over the archived pages of stored stories"
    )
    again.add_argument("--warc", required=True, metavar="PATH[,PATH...]", help="WARC files")
    again.add_argument("--site", help="only stories of this portal (e.g. fr.de)")
    again.add_argument("--since", help="only stories fetched since (2024-04-26, 2d)")
    again.add_argument("--database", metavar="URL", help="database URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "upgrade":
            return _upgrade(args.url)
        if args.command == "index":
            return _index(args.url)
        if args.command == "reextract":
            return _reextract(args)
        return _reimport(args.path, args.database, args.into)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line, never a traceback with a password
        orig = getattr(exc, "orig", None) or exc
        print(f"error: {type(orig).__name__}: {str(orig).strip().splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
