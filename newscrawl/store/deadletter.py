"""The dead-letter file: items that could not be written, kept for ``reimport``.

JSON lines, one item per line, datetimes as ISO 8601 strings (``write_batch`` accepts
them back). Each line names the database the item was meant for (``DATABASE_KEY``: its
URL without the password), so ``reimport`` sends it home. Appending is line-atomic
enough for one crawl process per file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

DEFAULT_PATH = "data/deadletter.jsonl"
DATABASE_KEY = "_database"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def append(path: str | Path, items: list[dict[str, Any]], database: str | None = None) -> None:
    """Append ``items`` to the file at ``path``, creating it and its folder; ``database``
    (a URL without its password) is recorded on every line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    marked = [{**item, DATABASE_KEY: database} if database else item for item in items]
    lines = "".join(
        json.dumps(item, default=_default, ensure_ascii=False) + "\n" for item in marked
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()


def read(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, item)`` for each line; raises ``ValueError`` naming a bad line."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
            if not isinstance(item, dict):
                raise ValueError(f"{path}:{number}: not a JSON object")
            yield number, item


def archive(path: str | Path) -> Path:
    """Rename an imported file to ``<name>.imported-<UTC timestamp>`` so it is not re-read."""
    path = Path(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.imported-{stamp}")
    path.rename(target)
    return target
