"""fundus as a peer in the benchmark: its own environment, its command, its results.

fundus 0.5.7 cannot share newscrawl's environment (it pins ``lxml<6``; its
``curl_cffi`` must be 0.14, 0.17 does not import), so the benchmark builds it a virtual
environment of its own on first use, from the exact pins of
``benchmarks/fundus-requirements.txt``, in a cache folder named after those pins (a new
pin, a new folder). ``benchmarks/fundus_peer.py`` then crawls the mock with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("fundus-requirements.txt")
PEER = Path(__file__).with_name("fundus_peer.py")
READY = "newscrawl-fundus-ready"
"""Written into the environment last: one without it is a broken build, made anew."""
ARTICLE_PATH = re.compile(r"-(\d{7,9})\.html$")


class FundusError(RuntimeError):
    """fundus's environment could not be built, or its crawl failed."""


def requirements_digest(requirements: Path = REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newscrawl" / f"fundus-venv-{requirements_digest()}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_ready(venv: Path) -> bool:
    marker = venv / READY
    return marker.is_file() and marker.read_text().strip() == requirements_digest()


def ensure_venv(venv: Path, log: Path) -> Path:
    """fundus's Python, the environment built first if it is missing or incomplete.

    Building needs the package index (about 10 s); pip's output goes to ``log``.
    """
    if is_ready(venv):
        return venv_python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv_python(venv)), "-m", "pip", "install", "--no-input", "-r", str(REQUIREMENTS)],
        [str(venv_python(venv)), "-c", "import fundus, fundus.publishers.de"],
    ]
    with log.open("wb") as out:
        for step in steps:
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise FundusError(f"could not build fundus's environment in {venv}; see {log}")
    (venv / READY).write_text(requirements_digest() + "\n")
    return venv_python(venv)


def versions_line(python: Path) -> str:
    """fundus's version and those of the libraries it needs its own of, for the header."""
    names = ("fundus", "lxml", "curl_cffi")
    code = f"import importlib.metadata as m; print(*(m.version(n) for n in {names!r}))"
    found = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    pairs = zip(names, found.stdout.split() or ["?"] * len(names), strict=False)
    return "fundus (own environment): " + ", ".join(f"{n} {v}" for n, v in pairs)


def peer_command(python: Path, registry: Path, out: Path) -> list[str]:
    return [str(python), str(PEER), "--registry", str(registry), "--out", str(out)]


def peer_env() -> dict[str, str]:
    """The environment without newscrawl's: fundus must import only its own packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def stored_urls(lines: Iterable[str]) -> list[str]:
    """The URL (after redirects) of each article fundus yielded, one JSON line each."""
    return [json.loads(line)["url"] for line in lines if line.strip()]


def article_id(url: str) -> str | None:
    """The online id of an article URL (``...-<id>.html``, query and fragment ignored)."""
    match = ARTICLE_PATH.search(url.split("#", 1)[0].split("?", 1)[0])
    return match.group(1) if match else None


def stories_found(urls: Iterable[str], expected_ids: Iterable[str]) -> int:
    """Expected stories with at least one stored page: a syndicated copy, stored under
    its own URL, finds the same story as its original."""
    return len({article_id(url) for url in urls} & set(expected_ids))


def article_downloads(urls: Iterable[str]) -> tuple[int, int]:
    """(article pages downloaded, distinct ones) among the URLs the mock served: the
    same page under a tracking query counts as downloaded again."""
    counts = Counter(url.split("#", 1)[0].split("?", 1)[0] for url in urls if article_id(url))
    return sum(counts.values()), len(counts)


if __name__ == "__main__":
    # ``python -m benchmarks._fundus``: build the environment ahead (what .ci/run does, so
    # that the peer's tests run there), and print its Python.
    built = default_venv()
    try:
        print(ensure_venv(built, built.parent / f"{built.name}.log"))
    except FundusError as exc:
        sys.exit(f"error: {exc}")
