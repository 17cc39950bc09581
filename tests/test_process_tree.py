"""A default crawl is one process; with worker processes (``NEWSCRAWL_EXTRACT_WORKERS``,
``NEWSCRAWL_STORE_WRITER=process``) every process it starts dies with it: ``kill -9``,
SIGTERM, Ctrl-C, mid-run and during start-up, with real ``scrapy crawl`` processes on
the mock network."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from newscrawl.processes import check_process_settings, forkserver_context, started_as_fork_server
from tests import proctree
from tests.crawling import REPO_ROOT, crawl, crawl_command
from tests.mocknet import MockNetwork
from tests.proctree import CrawlTree, Proc, crawl_tree, wait_gone

SLOW = ("-s", "DOWNLOAD_DELAY=0.5", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
# The process design: the pipelines' pools in processes of their own (not the default).
PROCESSES = proctree.WORKER_PROCESSES
# The bound: nothing of a crawl's tree is left this long after the crawl died.
GONE_WITHIN = 10.0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/usr/bin/python3", "-c", "from multiprocessing.forkserver import main; main(3, 4)"],
         True),
        (["python3.11", "-B", "-s", "-c", "from multiprocessing.forkserver import main; main()"],
         True),
        (["python3", "-c", "from multiprocessing.resource_tracker import main;main(16)"], False),
        (["/venv/bin/scrapy", "crawl", "ippen"], False),
        (["python3", "-c", "import newscrawl.processes"], False),
        (["python3", "-c"], False),
        (["-c"], False),
        ([], False),
    ],
)  # fmt: skip
def test_the_fork_server_is_known_by_its_command_line(argv: list[str], expected: bool) -> None:
    assert started_as_fork_server(argv) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("42 (python3.11) S 7 42 42 0 -1 4194560 1 0 0 0 12 3 0 0 20 10 3 0 98765 0 0",
         (42, 7, "S", 10, 98765, 15)),
        ("9 (a) b (c)) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0",
         (9, 1, "Z", 0, 5, 0)),
        ("3 (x y) R 2 3 3 0 -1 0 0 0 0 0 7 0 0 0 39 19 1 0 11 0 0",
         (3, 2, "R", 19, 11, 7)),
    ],
)  # fmt: skip
def test_stat_lines_are_read_past_the_command_name(
    line: str, expected: tuple[int, int, str, int, int, int]
) -> None:
    assert proctree.parse_stat(line) == expected


def _proc(pid: int, ppid: int) -> Proc:
    return Proc(pid, ppid, "S", 0, pid * 10, 0, f"p{pid}")


@pytest.mark.parametrize(
    ("edges", "root", "expected"),
    [
        ([(2, 1), (3, 2), (4, 3), (5, 1)], 2, [3, 4]),
        ([(2, 1), (3, 2), (4, 2), (5, 4)], 1, [2, 3, 4, 5]),
        ([(2, 1), (3, 2)], 3, []),
        ([(2, 1)], 99, []),
    ],
)
def test_descendants_are_every_generation_below_the_root(
    edges: list[tuple[int, int]], root: int, expected: list[int]
) -> None:
    procs = {pid: _proc(pid, ppid) for pid, ppid in edges}
    assert sorted(p.pid for p in proctree.descendants(procs, root)) == expected


def fork_and_report() -> int:
    """In a worker: the exit status of a child of its own that exits 7 at once."""
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_workers_own_child_is_not_taken_for_a_child_of_the_fork_server() -> None:
    """It inherits the fork hook that arms a child of the server, and must not act on it
    (its parent is the worker, not the server: it would exit 1 at once)."""
    with ProcessPoolExecutor(1, mp_context=forkserver_context()) as pool:
        assert pool.submit(fork_and_report).result(timeout=60) == 7


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({}, None),
        ({"NEWSCRAWL_EXTRACT_WORKERS": "3", "NEWSCRAWL_STORE_WRITER": "process"}, None),
        ({"NEWSCRAWL_EXTRACT_WORKERS": 0, "NEWSCRAWL_STORE_WRITER": "thread"}, None),
        ({"NEWSCRAWL_EXTRACT_WORKERS": "-1"}, "NEWSCRAWL_EXTRACT_WORKERS must be 0 (in the "
         "crawl process) or a number of worker processes, not '-1'"),
        ({"NEWSCRAWL_EXTRACT_WORKERS": "two"}, "NEWSCRAWL_EXTRACT_WORKERS must be 0 (in the "
         "crawl process) or a number of worker processes, not 'two'"),
        ({"NEWSCRAWL_STORE_WRITER": "fork"},
         "NEWSCRAWL_STORE_WRITER must be one of thread, process, not 'fork'"),
    ],
)  # fmt: skip
def test_the_process_settings_are_checked_before_a_crawl(
    settings: dict[str, object], error: str | None
) -> None:
    if error is None:
        check_process_settings(settings)
        return
    with pytest.raises(ValueError) as raised:
        check_process_settings(settings)
    assert str(raised.value) == error


def test_a_crawl_with_an_unknown_writer_exits_2_with_one_line(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    result = crawl(mock_network.registry_path, f"sqlite:///{tmp_path / 'news.db'}", tmp_path,
                   "-s", "NEWSCRAWL_STORE_WRITER=fork")  # fmt: skip
    assert (result.returncode, result.stderr) == (
        2, "newscrawl: error: NEWSCRAWL_STORE_WRITER must be one of thread, process, not 'fork'\n"
    )  # fmt: skip
    assert not (tmp_path / "news.db").exists()


# ---- real crawls ---------------------------------------------------------------------


def start_crawl(
    net: MockNetwork, workdir: Path, settings: tuple[str, ...] = PROCESSES, slow: bool = True
) -> subprocess.Popen[bytes]:
    """A slow crawl in a session of its own, so that a 'Ctrl-C' reaches its group only;
    with worker processes unless ``settings`` say otherwise.

    Its output goes to files: a pipe would hang the test if a leftover process held it."""
    command = crawl_command(net.registry_path, f"sqlite:///{workdir / 'news.db'}", workdir,
                            workdir / "crawl.log", *SLOW * slow, *settings)  # fmt: skip
    (workdir / "tmp").mkdir()  # multiprocessing's directory (pymp-*) goes here
    env = {**os.environ, "TMPDIR": str(workdir / "tmp")}
    with (workdir / "stderr").open("wb") as stderr:
        return subprocess.Popen(command, cwd=REPO_ROOT, start_new_session=True, env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip


def wait_for_tree(
    process: subprocess.Popen[bytes], ready: Callable[[CrawlTree], bool], what: str
) -> CrawlTree:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tree = crawl_tree(process.pid)
        if tree is None or process.poll() is not None:
            break
        if ready(tree):
            return tree
        time.sleep(0.02)
    process.kill()
    process.wait()
    raise AssertionError(f"the crawl ended or timed out before {what}")


def working(tree: CrawlTree) -> bool:
    """Mid-run: the resource tracker, the fork server, the writer and an extraction
    worker are all up."""
    return bool(tree.resource_tracker and tree.fork_server and tree.writers and tree.extractors)


def starting(tree: CrawlTree) -> bool:
    """During start-up: the fork server exists and has not forked anything yet."""
    return tree.fork_server is not None and not tree.writers and not tree.extractors


def assert_nothing_left(tree: CrawlTree, workdir: Path | None = None) -> None:
    """No process of ``tree`` is left, nor multiprocessing's directory in ``workdir``
    (after a kill -9 the fork server removes it)."""
    left = wait_gone(tree.procs, GONE_WITHIN)
    assert not left, "left behind:\n" + "\n".join(map(str, left))
    if workdir is not None:
        assert list((workdir / "tmp").iterdir()) == []


def test_a_default_crawl_is_one_process_from_start_to_end(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    """Extraction and the store's writer run in the crawl process: no fork server, no
    resource tracker, no worker, at any moment of a whole crawl (issue 18)."""
    process = start_crawl(mock_network, tmp_path, settings=(), slow=False)
    seen: set[str] = set()
    while process.poll() is None:
        tree = crawl_tree(process.pid)
        seen |= {p.cmdline for p in tree.procs} if tree is not None else set()
        time.sleep(0.01)
    assert process.returncode == 0, (tmp_path / "stderr").read_text(encoding="utf-8")
    assert seen == set()
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    stored = len(mock_network.expected_urls)
    assert f"newscrawl/store/new': {stored}," in log


def test_a_default_crawl_stopped_with_sigterm_exits_1_without_a_traceback(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    process = start_crawl(mock_network, tmp_path, settings=())
    log_path = tmp_path / "crawl.log"
    deadline = time.monotonic() + 120
    # Mid-run (seconds before the end, at DOWNLOAD_DELAY=0.5): a page went through extraction.
    while "Dropped: nothing to extract" not in (log_path.read_text() if log_path.exists() else ""):
        assert process.poll() is None and time.monotonic() < deadline, "nothing was extracted"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 1
    log = log_path.read_text(encoding="utf-8")
    stderr = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert "finish_reason=shutdown exit=1" in log.strip().splitlines()[-1]
    assert "Traceback" not in log + stderr


@pytest.mark.parametrize(
    ("ready", "what"), [(working, "its workers were up"), (starting, "its fork server started")]
)
def test_kill_9_leaves_nothing_of_the_crawl(
    mock_network: MockNetwork, tmp_path: Path, ready: Callable[[CrawlTree], bool], what: str
) -> None:
    process = start_crawl(mock_network, tmp_path)
    tree = wait_for_tree(process, ready, what)
    process.kill()
    assert process.wait(timeout=10) == -signal.SIGKILL  # it was still running
    # Killed while its fork server was still importing, the crawl's /tmp/pymp-* directory
    # stays: the server cannot tell its crawl from the process it was handed on to.
    assert_nothing_left(tree, tmp_path if ready is working else None)


@pytest.mark.parametrize(
    ("signum", "group"),
    [
        (signal.SIGTERM, False),  # kill <pid>
        (signal.SIGINT, True),  # Ctrl-C in a terminal: the whole foreground group
        (signal.SIGTERM, True),  # systemd's stop: every process of the unit
    ],
    ids=["SIGTERM", "Ctrl-C", "SIGTERM-to-all"],
)
def test_a_stopped_crawl_exits_1_and_leaves_nothing(
    mock_network: MockNetwork, tmp_path: Path, signum: int, group: bool
) -> None:
    process = start_crawl(mock_network, tmp_path)
    tree = wait_for_tree(process, working, "its workers were up")
    if group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    assert process.wait(timeout=120) == 1
    assert_nothing_left(tree, tmp_path)
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    stderr = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert "finish_reason=shutdown exit=1" in log.strip().splitlines()[-1]
    assert "Traceback" not in log + stderr
    assert "An extraction worker died" not in log  # the workers ignored the signal


def test_ctrl_c_while_the_fork_server_starts_stops_the_crawl_without_a_traceback(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    """The fork server is still importing when it appears: unguarded, Ctrl-C ended it
    with a KeyboardInterrupt traceback on the crawl's terminal."""
    process = start_crawl(mock_network, tmp_path)
    tree = wait_for_tree(process, starting, "its fork server started")
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=120) == 1
    assert_nothing_left(tree, tmp_path)
    stderr = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert "Traceback" not in stderr, stderr


# In a fresh interpreter that plays the crawl: one worker from the pipelines' context runs
# a regular expression that backtracks for hours without releasing the GIL, so the
# worker's own watch (a thread) cannot run; the fork server's watch must end it.
_STUCK_WORKER = """
import re, sys
from concurrent.futures import ProcessPoolExecutor
from newscrawl.processes import forkserver_context
pool = ProcessPoolExecutor(1, mp_context=forkserver_context())
pool.submit(re.fullmatch, r"(a+)+$", "a" * 64 + "b")
print("submitted", flush=True)
pool.submit(abs, 1).result()  # never: the only worker is busy
"""


def test_a_worker_stuck_in_c_dies_with_its_parent(tmp_path: Path) -> None:
    with (tmp_path / "out").open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", _STUCK_WORKER], cwd=REPO_ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    def busy(tree: CrawlTree) -> bool:  # half a second of CPU into the regex
        return any(p.cpu >= os.sysconf("SC_CLK_TCK") / 2 for p in tree.forked)

    tree = wait_for_tree(process, busy, "its worker was busy")
    process.kill()
    process.wait(timeout=10)
    assert_nothing_left(tree)
