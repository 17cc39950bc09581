"""The store's maintenance: create or upgrade the schema, fill the search index, reimport
dead letters. Shared by ``python -m newscrawl.store`` and ``newscrawl db``; each returns
an exit status and prints what it did, ``guarded`` turns a failure into one line."""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Callable

from newscrawl.store import (
    deadletter,
    display_url,
    index_pending,
    make_engine,
    migrate,
    write_batch,
)
from newscrawl.store.engine import DATABASE_URL_ENV, database_url, redact, without_password

REIMPORT_BATCH = 500


def upgrade(url: str | None) -> int:
    engine = make_engine(url)
    migrate(engine)
    print(f"{display_url(engine)}: schema is at the newest revision")
    return 0


def index(url: str | None) -> int:
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


def reimport(path: str, database: str | None, into: str | None) -> int:
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


def guarded(call: Callable[[], int], prefix: str = "error") -> int:
    """``call()``'s status, or 2 with one line on stderr (passwords masked) if it raised."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return call()
    except (ValueError, OSError) as exc:
        message = str(exc)
    except Exception as exc:  # one line, never a traceback with a password
        orig = getattr(exc, "orig", None) or exc
        message = f"{type(orig).__name__}: {str(orig).strip().splitlines()[0]}"
    print(f"{prefix}: {redact(message)}", file=sys.stderr)
    return 2
