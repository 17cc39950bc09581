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
