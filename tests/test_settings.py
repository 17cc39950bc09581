"""The settings module: one place, each setting once, every component of ours enabled."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from scrapy.settings import Settings

from newscrawl import settings as project_settings

SETTINGS_FILE = Path(project_settings.__file__)


def test_each_setting_is_assigned_once() -> None:
    # Branches merged blocks that each set DOWNLOADER_MIDDLEWARES; the last one silently
    # replaced the others and switched the registry and robots middlewares off.
    tree = ast.parse(SETTINGS_FILE.read_text("utf-8"))
    names = Counter(
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_our_downloader_middlewares_replace_scrapys_offsite_robots_and_metarefresh() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    middlewares = settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None
    assert middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    ours = {name: order for name, order in middlewares.items() if name.startswith("newscrawl.")}
    assert ours == {
        "newscrawl.downloadermiddlewares.registry.RegistryOffsiteMiddleware": 50,
        "newscrawl.downloadermiddlewares.robots.SharedRobotsTxtMiddleware": 100,
        "newscrawl.downloadermiddlewares.metarefresh.HeadMetaRefreshMiddleware": 580,
        "newscrawl.incremental.IncrementalRedirectMiddleware": 650,
        "newscrawl.archive.middleware.WarcWriterMiddleware": 960,
    }
