"""Where a resumed ``ippen-archive`` run starts: a checkpoint per file in ``JOBDIR``.

A record is *finished* when the pipelines are done with its item (stored in the batch,
dropped, or failed) or when it was skipped. The checkpoint of a file is the first
record that is not finished, so a resumed run reads again what was in flight and
nothing before it. Re-reading is harmless: the store takes an unchanged story as
``unchanged`` and writes nothing else.

``InFlight`` keeps that account; ``Checkpoints`` keeps the file
(``JOBDIR/warc-checkpoint.json``, replaced atomically, so a kill leaves the old or the
new one, never half of one).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

CHECKPOINT_FILE = "warc-checkpoint.json"


@dataclass(frozen=True)
class Position:
    """Resume at the record at ``offset``; ``after``: that record is finished, skip it."""

    offset: int = 0
    after: bool = False
    done: bool = False
    """Every record of the file is finished."""


class InFlight:
    """Records handed to the pipelines and not finished, per file."""

    def __init__(self) -> None:
        self._offsets: dict[int, tuple[Path, int]] = {}
        self._per_file: dict[Path, dict[int, int]] = defaultdict(dict)
        self._last: dict[Path, int] = {}
        self._done: set[Path] = set()

    def __len__(self) -> int:
        return len(self._offsets)

    def sent(self, key: int, path: Path, offset: int) -> None:
        self._offsets[key] = (path, offset)
        counts = self._per_file[path]
        counts[offset] = counts.get(offset, 0) + 1
        self._last[path] = offset

    def skipped(self, path: Path, offset: int) -> None:
        self._last[path] = offset

    def file_read(self, path: Path) -> None:
        self._done.add(path)

    def finished(self, key: int) -> bool:
        """Forget the item ``key``; False when it was not one of ours."""
        found = self._offsets.pop(key, None)
        if found is None:
            return False
        path, offset = found
        counts = self._per_file[path]
        counts[offset] -= 1
        if not counts[offset]:
            del counts[offset]
        return True

    def position(self, path: Path) -> Position | None:
        """Where to resume ``path`` now; None when nothing of it was read yet."""
        waiting = self._per_file.get(path)
        if waiting:
            return Position(min(waiting))
        if path in self._done:
            return Position(self._last.get(path, 0), after=path in self._last, done=True)
        if path in self._last:
            return Position(self._last[path], after=True)
        return None

    def positions(self) -> dict[Path, Position]:
        return {
            path: found
            for path in {*self._last, *self._done}
            if (found := self.position(path)) is not None
        }


class Checkpoints:
    def __init__(self, jobdir: Path) -> None:
        self.path = jobdir / CHECKPOINT_FILE

    def load(self) -> dict[Path, Position]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return {Path(name): Position(**value) for name, value in data["files"].items()}

    def save(self, positions: dict[Path, Position]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"files": {str(path): asdict(found) for path, found in positions.items()}}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)
