"""The benchmark command keeps working: a tiny run completes and stores every page.

No speed is asserted anywhere: the numbers are the benchmark's output, not a test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from benchmarks import _fundus as fundus
from benchmarks import _report as report
from benchmarks import _runs as runs_module
from benchmarks._measure import ProcessPeaks, measure
from benchmarks._records import CrawlRun
from benchmarks.fundus_peer import PublisherSpec, publisher_specs
from tests.mocknet import MockNetwork
from tests.mocknet.registry import registry_toml
from tests.mocknet.spec import NetworkSpec

REPO = Path(__file__).resolve().parents[1]
ARTICLES = 50
PER_PORTAL = 13  # ceil(50 / 4 portals)
PROCESS_DESIGN = "NEWSCRAWL_EXTRACT_WORKERS=2,NEWSCRAWL_STORE_WRITER=process"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"procs:{PROCESS_DESIGN}", ("newscrawl:procs", {"NEWSCRAWL_EXTRACT_WORKERS": "2",
                                                         "NEWSCRAWL_STORE_WRITER": "process"})),
        ("plain:", ("newscrawl:plain", {})),
        ("a.b-c_1:X = 1", ("newscrawl:a.b-c_1", {"X": "1"})),
        ("nolabel", "'nolabel' is not LABEL:NAME=VALUE,... (label: letters, digits, ._-)"),
        ("a b:X=1", "'a b:X=1' is not LABEL:NAME=VALUE,... (label: letters, digits, ._-)"),
        ("x:X", "'X' is not NAME=VALUE"),
        ("x:=1", "'=1' is not NAME=VALUE"),
    ],
)  # fmt: skip
def test_a_variant_is_a_label_and_settings(text: str, expected: object) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError) as raised:
            runs_module.parse_variant(text)
        assert str(raised.value) == expected
        return
    variant = runs_module.parse_variant(text)
    assert ((variant.name, variant.settings), variant.checkout) == (expected, REPO)


def _run(crawler: str, repeat: int, wall: float, cpu: float, tree: int) -> CrawlRun:
    return CrawlRun(
        crawler=crawler, database="sqlite", repeat=repeat, returncode=0, expected=100,
        stored=100, missing=0, unexpected=0, wall=wall, cpu=cpu, main_rss=tree, worker_rss=0,
        write_seconds=None, mock_cpu=0.0, tree_rss=tree,
    )  # fmt: skip


def test_variants_are_compared_repeat_by_repeat() -> None:
    crawls = [
        _run("newscrawl", 1, wall=10, cpu=4, tree=200), _run("newscrawl@abc", 1, 20, 8, 500),
        _run("newscrawl", 2, wall=30, cpu=6, tree=200), _run("newscrawl@abc", 2, 40, 6, 400),
    ]  # fmt: skip
    # pages/s: 2.0 and 1.33 (median 1.67); CPU/page: 0.5 and 1.0; tree: 0.4 and 0.5
    assert report.versus(crawls) == [
        "- sqlite: newscrawl vs newscrawl@abc: pages/s 1.67 (1.33–2.00)×, "
        "CPU/page 0.75 (0.50–1.00)×, tree peak RSS 0.45 (0.40–0.50)×"
    ]
    assert [line.split(" | ")[0] for line in report.table(crawls, [])[2:]] == [
        "| newscrawl · sqlite", "| newscrawl@abc · sqlite",
    ]  # fmt: skip


def test_the_reaper_counts_the_cpu_of_orphaned_grandchildren(tmp_path: Path) -> None:
    # The grandchild outlives its parent, like the extraction pool's forkserver outlives
    # the crawl process: plain RUSAGE_CHILDREN of the benchmark would never see its CPU.
    script = textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            end = time.process_time() + 0.5
            while time.process_time() < end:
                pass
            os._exit(0)
        os._exit(0)
    """)
    out = tmp_path / "usage.json"
    command = [sys.executable, "-m", "benchmarks._reaper", str(out), sys.executable, "-c", script]
    subprocess.run(command, cwd=REPO, check=True, timeout=60)
    usage = json.loads(out.read_text())
    assert usage["returncode"] == 0
    assert usage["user"] + usage["sys"] >= 0.5


def test_workers_are_told_from_helpers_even_when_the_forkserver_is_seen_before_exec(
    tmp_path: Path,
) -> None:
    # The child is a forkserver only once it has exec'd; for its first half second it
    # shows its parent's command line. Its own child is then a worker, not a helper.
    server = (
        "import subprocess, sys, time; "
        "worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1)']); "
        "worker.wait()"
    )
    # The forkserver's marker is spelled in two halves here, so that only the exec'd
    # child's command line holds it, not this script's own.
    script = textwrap.dedent(f"""
        import os, sys, time
        child = os.fork()
        if child == 0:
            time.sleep(0.5)
            code = {server!r} + "  # multiprocessing" + ".forkserver"
            os.execv(sys.executable, [sys.executable, "-c", code])
        os.waitpid(child, 0)
    """)
    measured = measure([sys.executable, "-c", script], REPO, dict(os.environ),
                       tmp_path / "out.log", timeout=60)  # fmt: skip
    assert measured.returncode == 0
    assert sorted(measured.peaks.roles.values()) == ["forkserver", "main", "worker"]
    assert list(measured.peaks.workers) == [
        pid for pid, role in measured.peaks.roles.items() if role == "worker"
    ]


def test_a_child_keeps_no_peak_it_showed_between_fork_and_exec(tmp_path: Path) -> None:
    # Forked from a 200 MB parent, the child shows the parent's pages as its own until it
    # execs a small program: summed into the tree's peak, that copy would count twice.
    script = textwrap.dedent("""
        import os, sys, time
        ballast = bytearray(200 * 1024 * 1024)
        child = os.fork()
        if child == 0:
            time.sleep(0.5)
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1)"])
        os.waitpid(child, 0)
    """)
    measured = measure([sys.executable, "-c", script], REPO, dict(os.environ),
                       tmp_path / "out.log", timeout=60)  # fmt: skip
    peaks = measured.peaks
    assert measured.returncode == 0
    assert peaks.main >= 200 * 1024 * 1024
    (child,) = peaks.helpers.values()
    assert child < 100 * 1024 * 1024
    assert (peaks.processes, peaks.tree) == (2, peaks.main + child)


def test_the_tree_peak_sums_every_process_of_every_role() -> None:
    peaks = ProcessPeaks(main_pid=10, main=100, workers={11: 40, 12: 50}, helpers={13: 7})
    assert (peaks.tree, peaks.processes) == (197, 4)
    assert (ProcessPeaks().tree, ProcessPeaks().processes) == (0, 0)


def test_fundus_publishers_are_the_registry_portals_with_their_feeds_and_sitemaps() -> None:
    spec = NetworkSpec(5, seed=1, port=8123)
    sites = tomllib.loads(registry_toml(spec))["sites"]
    sources = {
        base: (("RSSFeed", f"{base}/rssfeed.rdf"), ("RSSFeed", f"{base}/politik/rssfeed.rdf"),
               ("NewsMap", f"{base}/news.xml"), ("Sitemap", f"{base}/sitemap-index.xml"))
        for base in (f"http://127.0.0.{n}:8123" for n in (2, 3, 4, 5))
    }  # fmt: skip
    assert publisher_specs(sites) == [
        PublisherSpec("FR_DE", "Frankfurter Rundschau", "http://127.0.0.2:8123",
                      "FrankfurterRundschauParser", sources["http://127.0.0.2:8123"]),
        PublisherSpec("MERKUR_DE", "Merkur", "http://127.0.0.3:8123", "MerkurParser",
                      sources["http://127.0.0.3:8123"]),
        PublisherSpec("EXTRATIPP_COM", "Extratipp", "http://127.0.0.4:8123", "MerkurParser",
                      sources["http://127.0.0.4:8123"]),
        PublisherSpec("24AUTO_DE", "24auto", "http://127.0.0.5:8123", "MerkurParser",
                      sources["http://127.0.0.5:8123"]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("sitemap", "source"),
    [("/news.xml", ("NewsMap", "https://www.merkur.de/news.xml")),
     ("/sitemaps/news-de.xml.gz", ("NewsMap", "https://www.merkur.de/sitemaps/news-de.xml.gz")),
     ("/sitemap-index.xml", ("Sitemap", "https://www.merkur.de/sitemap-index.xml")),
     ("/newsletter/sitemap.xml", ("Sitemap", "https://www.merkur.de/newsletter/sitemap.xml")),
     ("https://cdn.merkur.de/news.xml", ("NewsMap", "https://cdn.merkur.de/news.xml"))],
)  # fmt: skip
def test_a_news_sitemap_is_a_fundus_newsmap(sitemap: str, source: tuple[str, str]) -> None:
    site = {"domain": "merkur.de", "name": "Merkur", "base_url": "https://www.merkur.de",
            "sitemaps": [sitemap]}  # fmt: skip
    (publisher,) = publisher_specs([site])
    assert publisher.sources == (source,)


def test_fundus_results_are_counted_by_page_and_by_story() -> None:
    lines = [
        '{"url": "http://a/politik/x-91000000.html", "title": "X"}',
        "",
        '{"url": "http://b/wohnen/copy-93000001.html", "title": "Syndicated copy"}',
        '{"url": "http://a/politik/y-91000008.html?utm_source=rss#id-Comments"}',
    ]
    urls = fundus.stored_urls(lines)
    assert urls == ["http://a/politik/x-91000000.html", "http://b/wohnen/copy-93000001.html",
                    "http://a/politik/y-91000008.html?utm_source=rss#id-Comments"]  # fmt: skip
    # The copy finds its original's story; a story found twice counts once.
    expected = {"91000000", "91000008", "93000001", "91000016"}
    assert fundus.stories_found([*urls, "http://c/x-91000000.html"], expected) == 3
    assert fundus.stories_found(["http://a/", "http://a/rssfeed.rdf"], expected) == 0
    served = [
        "http://a/politik/x-91000000.html", "http://a/politik/x-91000000.html?utm_source=rss",
        "http://a/politik/y-91000008.html", "http://a/news.xml", "http://a/robots.txt",
        "http://b/wohnen/copy-91000000.html",
    ]  # fmt: skip
    assert fundus.article_downloads(served) == (4, 3)


# fundus's environment is built by the benchmark on first use and needs the package
# index, which tests must not depend on: without it, this test is skipped, except in CI,
# whose script builds it first (``python -m benchmarks._fundus``).
needs_fundus = pytest.mark.skipif(
    not fundus.is_ready(fundus.default_venv()) and os.environ.get("CI", "").lower() != "true",
    reason="fundus's environment is not built (python -m benchmarks._fundus builds it)",
)


@needs_fundus
def test_fundus_stores_the_listed_pages_of_the_layout_its_parsers_read(tmp_path: Path) -> None:
    out = tmp_path / "articles.jsonl"
    with MockNetwork(PER_PORTAL, seed=1, workdir=tmp_path / "mock") as net:
        command = fundus.peer_command(fundus.venv_python(fundus.default_venv()),
                                      net.registry_path, out)  # fmt: skip
        result = subprocess.run(command, cwd=REPO, env=fundus.peer_env(),
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
        stored = fundus.stored_urls(out.read_text().splitlines())
        spec, served = net.spec, {r.url for r in net.requests()}
    assert spec is not None
    regular = {spec.regular_meta(p.domain, i) for p in spec.portals for i in range(PER_PORTAL)}
    # Every regular article is in its portal's news sitemap; fundus's parsers read the
    # body of the 2024 layout only (no paragraphs found in the 2020 one, so its default
    # filter drops those pages), and it follows no links.
    assert {u for u in stored if (fundus.article_id(u) or "").startswith("91")} == {
        m.url for m in regular if m.layout == "2024"
    }
    assert spec.specials.syndicated_copy in stored  # stored under its own URL too
    assert spec.specials.body_link_only not in stored
    assert len(stored) == len(set(stored))
    assert not served & spec.never_requested_urls


def test_a_tiny_benchmark_stores_every_page_in_both_databases(tmp_path: Path) -> None:
    out = tmp_path / "benchmark.json"
    with_fundus = fundus.is_ready(fundus.default_venv())  # measured too where it is built
    command = [
        sys.executable, "benchmarks/run.py", "--articles", str(ARTICLES), "--repeat", "1",
        "--databases", "sqlite,postgresql", "--json", str(out), *["--fundus"] * with_fundus,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=280)
    if result.returncode == 2 and "PostgreSQL" in result.stderr:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {result.stderr.strip()}")
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr

    expected = len(NetworkSpec(PER_PORTAL, seed=1, port=0).expected_urls)
    assert expected == 4 * PER_PORTAL + 6  # regular pages + the stored special cases
    data = json.loads(out.read_text())
    runs = {(c["crawler"], c["database"]): c for c in data["crawls"]}
    assert sorted(runs) == [("baseline", "postgresql"), ("baseline", "sqlite"),
                            *[("fundus", "–")] * with_fundus,
                            ("newscrawl", "postgresql"), ("newscrawl", "sqlite")]  # fmt: skip
    for database in ("sqlite", "postgresql"):
        mine = runs["newscrawl", database]
        assert (mine["returncode"], mine["expected"], mine["stored"]) == (0, expected, expected)
        assert (mine["missing"], mine["unexpected"], mine["stories"]) == (0, 0, expected)
        assert mine["write_seconds"] > 0
        # One process: extraction and the store's writer run in the crawl process (the
        # process design's tree is tests/test_process_tree.py's).
        assert (mine["processes"], mine["worker_rss"], mine["tree_rss"]) == (
            1, 0, mine["main_rss"]
        )  # fmt: skip
        # The naive baseline stores the syndicated copy under its own URL as well.
        baseline = runs["baseline", database]
        assert (baseline["missing"], baseline["stored"]) == (0, expected + 1)
    (ceiling,) = data["ceilings"]
    assert (ceiling["pages"], ceiling["extracted"]) == (expected, expected)
    assert "| newscrawl · postgresql |" in result.stdout
    if with_fundus:
        peer = runs["fundus", "–"]
        assert (peer["returncode"], peer["processes"]) == (0, 1)
        assert 0 < peer["stories"] < expected  # no link following, no 2020-layout bodies
        assert "| fundus 0.5.7 · no database, JSON lines |" in result.stdout
    assert f"| {expected}/{expected} |" in result.stdout
