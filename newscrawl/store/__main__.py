"""Command line of the store.

    python -m newscrawl.store upgrade [URL]
    python -m newscrawl.store index [URL]
    python -m newscrawl.store reimport [--database URL] data/deadletter.jsonl

URL defaults to ``NEWSCRAWL_DATABASE_URL`` or ``sqlite:///data/news.db``.
"""

from __future__ import annotations

import argparse
import logging
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


def _reimport(url: str | None, path: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    totals: Counter[str] = Counter()
    batch: list[dict] = []
    for _number, item in deadletter.read(path):
        batch.append(item)
        if len(batch) >= REIMPORT_BATCH:
            totals.update(write_batch(engine, batch).counts())
            batch = []
    if batch:
        totals.update(write_batch(engine, batch).counts())
    target = deadletter.archive(path)
    summary = ", ".join(f"{totals[key]} {key}" for key in sorted(totals))
    print(f"{display_url(engine)}: re-imported {path} ({summary or 'no items'}); moved to {target}")
    return 1 if totals["failed"] else 0


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
    reimport.add_argument("--database", help="database URL")
    reimport.add_argument("path", help="dead-letter file (JSON lines)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "upgrade":
            return _upgrade(args.url)
        if args.command == "index":
            return _index(args.url)
        return _reimport(args.database, args.path)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line, never a traceback with a password
        orig = getattr(exc, "orig", None) or exc
        print(f"error: {type(orig).__name__}: {str(orig).strip().splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
