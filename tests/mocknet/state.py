"""Article updates (``MockNetwork.update_article``), shared through a JSON file.

The test process writes the file atomically (write + ``os.replace``); the server process
re-reads it when its inode or mtime changes, checked on every request, so an update is
visible to the very next request without any control endpoint a crawler could discover.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.mocknet.spec import EPOCH, ArticleMeta

FIRST_EDIT = timedelta(minutes=30)
"""A fresh article's lastmod is its publication time plus this."""
UPDATE_STEP = timedelta(hours=1)


@dataclass(frozen=True)
class Revision:
    revision: int = 0
    """Bumped by every update; seeds the regenerated body when no text is given."""
    bumps: int = 0
    """How often the lastmod was moved forward."""
    text: str | None = None
    page_bumps: int = 0
    """How often only the page's date (dateModified, Last-Modified) was moved forward:
    feeds and sitemaps keep the old lastmod, as for a ticker its feed dates by publication."""


def modified_at(meta: ArticleMeta, revision: Revision, page: bool = False) -> datetime:
    """lastmod / Last-Modified: an update moves it past every publication in the network.
    ``page``: the date the article page itself states (sources give the other)."""
    bumps = revision.bumps + (revision.page_bumps if page else 0)
    modified = meta.published + FIRST_EDIT
    if bumps:
        modified = max(modified, EPOCH + FIRST_EDIT) + UPDATE_STEP * bumps
    return modified


class StateFile:
    """Read side (server) and write side (tests) of the update file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._revisions: dict[str, Revision] = {}

    def get(self, article_id: str) -> Revision:
        self._refresh()
        return self._revisions.get(article_id, Revision())

    def update(
        self, article_id: str, new_text: str | None, bump_lastmod: bool, in_sources: bool = True
    ) -> Revision:
        self._refresh()
        old = self._revisions.get(article_id, Revision())
        bumps, page_bumps = old.bumps, old.page_bumps
        if bump_lastmod and in_sources:
            bumps += 1
        elif bump_lastmod:
            page_bumps += 1
        new = Revision(old.revision + 1, bumps, new_text, page_bumps)
        revisions = {**self._revisions, article_id: new}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: vars(v) for k, v in revisions.items()}), "utf-8")
        os.replace(tmp, self.path)
        self._refresh()
        return new

    def _refresh(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return
        key = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if key == self._seen:
                return
            raw = json.loads(self.path.read_text("utf-8"))
            self._revisions = {k: Revision(**v) for k, v in raw.items()}
            self._seen = key
