"""Paths and loaders of the pages the extraction tests and the benchmark share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "ippen"
PAGES = REPO / "tests" / "pages"

AMBROSIA_2024 = FIXTURES / "fr.de-2024-ambrosia.html"
NORDKOREA_2020 = FIXTURES / "fr.de-2020-nordkorea.html"
MUSK_2021 = PAGES / "24auto-2021-musk-putin-clubhouse.html"
SECTION_PAGE = PAGES / "fr.de-section-politik.html"
GENERIC_PAGE = PAGES / "generic-blog-article.html"

AMBROSIA_URL = (
    "https://www.fr.de/ratgeber/wohnen/"
    "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html"
)
NORDKOREA_URL = (
    "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html"
)
MUSK_URL = (
    "https://www.24auto.de/news/"
    "elon-musk-putin-clubhouse-einladung-tesla-chef-russland-talk-90206543.html"
)


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def ambrosia_expected() -> dict[str, Any]:
    return load_json(FIXTURES / "fr.de-2024-ambrosia.expected.json")


def nordkorea_expected() -> dict[str, Any]:
    return load_json(FIXTURES / "fr.de-2020-nordkorea.expected-snippets.json")


def musk_expected() -> dict[str, Any]:
    return load_json(PAGES / "24auto-2021-musk-putin-clubhouse.expected.json")


MOCK_TICKER_EXPECTED = PAGES / "mock-ticker.expected.json"
MOCK_EXPLAINER_EXPECTED = PAGES / "mock-explainer.expected.json"


def story_pages() -> list[tuple[str, bytes, str, dict[str, Any]]]:
    """(name, page, url, expected) of the mock network's ticker and explainer at revision
    0, rendered as the mock serves them on port 8765 (tests/mocknet/stories.py)."""
    from tests.mocknet import stories
    from tests.mocknet.spec import NetworkSpec

    spec = NetworkSpec(6, seed=1, port=8765)
    out = []
    for name, article_id, path in (
        ("mock-ticker", stories.TICKER_ID, MOCK_TICKER_EXPECTED),
        ("mock-explainer", stories.EXPLAINER_ID, MOCK_EXPLAINER_EXPECTED),
    ):
        meta = spec.article(article_id)
        assert meta is not None
        page = stories.render(spec, meta, 0)[1].encode("utf-8")
        out.append((name, page, meta.url, load_json(path)))
    return out
