"""``MockNetwork``: start the mock portals in a server process and inspect what they served."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from tests.mocknet.server import REQUEST_LOG, STATE_FILE
from tests.mocknet.spec import ArticleMeta, NetworkSpec
from tests.mocknet.state import Revision, StateFile, modified_at

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServedRequest(NamedTuple):
    host: str
    """``ip:port`` of the portal that answered (the outside host included)."""
    path: str
    """Path with query, exactly as requested."""
    method: str
    status: int
    headers: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}"

    @property
    def ip(self) -> str:
        return self.host.rsplit(":", 1)[0]


class MockNetwork:
    """The mock Ippen network, served by a separate process while the context is open.

    >>> with MockNetwork(articles_per_portal=6, seed=1, workdir=tmp_path) as net:
    ...     crawl(net.registry_path); assert stored_urls == net.expected_urls
    """

    def __init__(
        self,
        articles_per_portal: int = 6,
        seed: int = 1,
        workdir: Path | str | None = None,
        port: int = 0,
        startup_timeout: float = 60.0,
        archive_epoch: datetime | None = None,
    ) -> None:
        if articles_per_portal < 5:
            raise ValueError("articles_per_portal must be at least 5")
        self.articles_per_portal = articles_per_portal
        self.seed = seed
        self.archive_epoch = archive_epoch
        """Set: a two-year archive ending then (spec.py); None: the default network."""
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="mocknet-"))
        self._port = port
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.spec: NetworkSpec | None = None
        self.registry_path: Path = self.workdir / "registry.toml"

    # --- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> MockNetwork:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "ready.json"
        ready.unlink(missing_ok=True)
        (self.workdir / REQUEST_LOG).write_text("")
        (self.workdir / STATE_FILE).unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}  # fmt: skip
        command = [
            sys.executable, "-m", "tests.mocknet",
            "--articles-per-portal", str(self.articles_per_portal), "--seed", str(self.seed),
            "--workdir", str(self.workdir), "--port", str(self._port), "--ready-file", str(ready),
        ]  # fmt: skip
        if self.archive_epoch is not None:
            command += ["--archive-epoch", self.archive_epoch.isoformat()]
        with (self.workdir / "server.log").open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        info = self._wait_ready(ready)
        self.spec = NetworkSpec(
            self.articles_per_portal, self.seed, info["port"], archive_epoch=self.archive_epoch
        )
        self.registry_path = Path(info["registry"])
        self._state = StateFile(self.workdir / STATE_FILE)

    def _wait_ready(self, ready: Path) -> dict[str, Any]:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if ready.exists():
                return json.loads(ready.read_text())
            if self._process.poll() is not None:
                log = (self.workdir / "server.log").read_text(errors="replace")
                raise RuntimeError(f"mocknet server exited ({self._process.returncode}): {log}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mocknet server not ready after {self._startup_timeout} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --- what a crawl must store ------------------------------------------------------
    @property
    def expected_urls(self) -> frozenset[str]:
        return self._spec.expected_urls

    @property
    def expected_article_ids(self) -> frozenset[str]:
        return self._spec.expected_article_ids

    @property
    def port(self) -> int:
        return self._spec.port

    def base_url(self, domain: str) -> str:
        return self._spec.base_url(domain)

    # --- served requests --------------------------------------------------------------
    def requests(self) -> list[ServedRequest]:
        """Every request served since start or the last :meth:`reset_requests`, in order."""
        lines = (self.workdir / REQUEST_LOG).read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.endswith("}")]
        return [
            ServedRequest(r["host"], r["path"], r["method"], r["status"], r["headers"])
            for r in records
        ]

    def reset_requests(self) -> None:
        # the server appends with O_APPEND, so truncating in place is safe
        with (self.workdir / REQUEST_LOG).open("r+") as log:
            log.truncate(0)

    # --- changes for incremental crawls -------------------------------------------------
    def update_article(
        self, article_id: str, new_text: str | None = None, bump_lastmod: bool = True,
        in_sources: bool = True,
    ) -> Revision:  # fmt: skip
        """Change a story's body (``new_text``: paragraphs split by blank lines; None: a
        freshly generated body) on every portal serving it. With ``bump_lastmod`` its
        lastmod in feeds/sitemaps, ``Last-Modified`` and ``dateModified`` move past every
        other article's, or (``in_sources=False``) only the page's two: feeds and sitemaps
        keep the old date. The ETag changes either way. The next request sees the change."""
        if self._spec.article(article_id) is None:
            raise KeyError(f"no article {article_id} in the mock network")
        return self._state.update(article_id, new_text, bump_lastmod, in_sources)

    def article(self, article_id: str) -> ArticleMeta:
        """The story's current metadata on the portal owning it (KeyError if unknown)."""
        meta = self._spec.article(article_id)
        if meta is None:
            raise KeyError(article_id)
        return meta

    def lastmod(self, article_id: str) -> datetime:
        """The story's current lastmod in feeds and sitemaps (and on its page, unless it was
        updated with ``in_sources=False``)."""
        meta = self.article(article_id)
        return modified_at(meta, self._state.get(article_id))

    @property
    def _spec(self) -> NetworkSpec:
        if self.spec is None:
            raise RuntimeError("MockNetwork is not started (use it as a context manager)")
        return self.spec
