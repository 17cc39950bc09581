"""Dead letters go home: each line names its database; reimport sends it there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from newscrawl.store import Store, make_engine, migrate
from newscrawl.store.models import Article
from tests.dbs import make_item, synthetic_items

ROOT = Path(__file__).resolve().parents[1]


def _reimport(*args: str, env_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSCRAWL_DATABASE_URL": env_url}
    return subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "reimport", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )  # fmt: skip


def _articles(url: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Article)).scalar_one()
    engine.dispose()
    return count


def _dead_letters(url: str, path: Path, items: list[dict]) -> None:
    store = Store(url, deadletter_path=str(path))
    store.dead_letter(items)
    store.close()


def test_a_line_names_its_database_without_the_password(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dead.jsonl"
    _dead_letters(pg_url.replace("postgres@", "postgres:s3cret@"), path, [make_item()])
    text = path.read_text()
    assert "s3cret" not in text
    assert json.loads(text)["_database"] == pg_url


def test_reimport_goes_home_not_to_the_default(tmp_path: Path) -> None:
    home, default = f"sqlite:///{tmp_path}/home.db", f"sqlite:///{tmp_path}/default.db"
    path = tmp_path / "dead.jsonl"
    _dead_letters(home, path, synthetic_items(2))
    done = _reimport(str(path), env_url=default)
    assert done.returncode == 0, done.stderr
    assert (_articles(home), _articles(default)) == (2, 0)
    assert not path.exists() and len(list(tmp_path.glob("dead.jsonl.imported-*"))) == 1


def test_a_file_for_another_database_is_refused_unless_into(tmp_path: Path) -> None:
    home, other = f"sqlite:///{tmp_path}/home.db", f"sqlite:///{tmp_path}/other.db"
    path = tmp_path / "dead.jsonl"
    _dead_letters(home, path, [make_item()])
    refused = _reimport("--database", other, str(path), env_url=other)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "use --into" in refused.stderr
    assert path.exists() and _articles(other) == 0
    done = _reimport("--into", other, str(path), env_url=home)
    assert done.returncode == 0, done.stderr
    assert (_articles(other), _articles(home)) == (1, 0)


def test_the_file_is_kept_until_every_item_went_in(tmp_path: Path) -> None:
    home = f"sqlite:///{tmp_path}/home.db"
    path = tmp_path / "dead.jsonl"
    _dead_letters(home, path, [make_item(), make_item(article_id="93036631", url=None)])
    # (the second has no URL: the store cannot take it)
    done = _reimport(str(path), env_url=home)
    assert done.returncode == 1
    assert "kept it: 1 items did not go in" in done.stdout
    assert path.exists() and _articles(home) == 1
