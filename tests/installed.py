"""``newscrawl`` installed as a user installs it, for the tests that run it (a plugin
registered in conftest.py, so the environment is built once a session).

The session builds a fresh virtual environment and ``pip install``s a copy of the project
into it (``--no-deps --no-build-isolation``: the tests may not reach PyPI), so that the
``newscrawl`` script is the one pip writes from ``[project.scripts]`` and the package is
the installed one, not this checkout. The environment is made ``--without-pip`` (its
bundled setuptools would shadow the pinned one) and sees the test environment's packages
through a .pth file, the dependencies pip was told not to install; ``--system-site-packages``
would give the interpreter's base packages, not this environment's. Every command runs in
an empty folder: no scrapy.cfg, no checkout on the path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with newscrawl installed by pip; its bin folder."""
    base = tmp_path_factory.mktemp("cli")
    source = base / "source"
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "newscrawl", source / "newscrawl", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", str(source)],
        capture_output=True, text=True, env=clean_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("NEWSCRAWL_DATABASE_URL", None)
    env.pop("NEWSCRAWL_SITES", None)
    return {**env, **extra}


def newscrawl(venv: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "newscrawl"), *args],
        cwd=cwd, capture_output=True, text=True, env=clean_env(**env), timeout=240,
    )  # fmt: skip
