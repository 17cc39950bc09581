"""The registry of portals: loading, selecting, mapping URLs to their canonical form."""

from pathlib import Path

import pytest

from newscrawl.network import Network, RegistryError

REQUIRED_PORTALS = (
    "merkur.de tz.de fr.de fnp.de hna.de kreiszeitung.de wa.de op-online.de "
    "giessener-allgemeine.de ruhr24.de 24auto.de 24vita.de 24garten.de 24hamburg.de 24rhein.de "
    "mannheim24.de echo24.de bw24.de extratipp.com ovb-online.de rosenheim24.de innsalzach24.de "
    "chiemgau24.de heidelberg24.de kreisbote.de soester-anzeiger.de come-on.de wlz-online.de "
    "hersfelder-zeitung.de buzzfeed.de ingame.de"
).split()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_registry_has_every_required_portal_with_the_networks_sources() -> None:
    network = Network.load()
    assert set(REQUIRED_PORTALS) <= set(network.domains)
    assert len(network.domains) == len(set(network.domains)) == 36
    fr = network.select(["fr.de"])[0]
    assert fr.base_url == "https://www.fr.de"
    assert [fr.absolute(u) for u in fr.feeds] == ["https://www.fr.de/rssfeed.rdf"]
    assert [fr.absolute(u) for u in fr.sitemaps] == [
        "https://www.fr.de/news.xml",
        "https://www.fr.de/sitemap-index.xml",
    ]
    assert fr.start_pages == ("/",)


def test_canonical_maps_any_spelling_of_a_portal_url_to_the_registry_form() -> None:
    network = Network.load()
    url, site = network.canonical("http://FR.de/politik/x-zr-93036630.html?utm_source=rss#c")
    assert (url, site.domain) == ("https://www.fr.de/politik/x-zr-93036630.html", "fr.de")
    url, site = network.canonical("https://m.merkur.de/a/b-12345678.html")
    assert (url, site.domain) == ("https://www.merkur.de/a/b-12345678.html", "merkur.de")
    assert network.canonical("https://www.spiegel.de/a-12345678.html") is None
    assert network.canonical("https://notfr.de/a-12345678.html") is None


def test_local_mirror_registry_with_ports_and_relative_sources(tmp_path: Path) -> None:
    network = Network.load(
        write(
            tmp_path,
            """
[[sites]]
domain = "fr.de"
name = "FR mock"
base_url = "http://127.0.0.2:8765/"
feeds = ["/rssfeed.rdf", "http://127.0.0.2:8765/politik/rssfeed.rdf"]
sitemaps = ["news.xml"]

[[sites]]
domain = "merkur.de"
name = "Merkur mock"
base_url = "http://127.0.0.3:8765"
""",
        )
    )
    fr, merkur = network.sites
    assert fr.base_url == "http://127.0.0.2:8765"
    assert [fr.absolute(u) for u in fr.feeds] == [
        "http://127.0.0.2:8765/rssfeed.rdf",
        "http://127.0.0.2:8765/politik/rssfeed.rdf",
    ]
    assert fr.absolute(fr.sitemaps[0]) == "http://127.0.0.2:8765/news.xml"
    assert merkur.start_pages == ("/",) and merkur.feeds == ()
    assert network.canonical("http://127.0.0.3:8765/a/b-12345678.html?x=1")[0] == (
        "http://127.0.0.3:8765/a/b-12345678.html"
    )
    assert network.canonical("http://127.0.0.3:9999/a/b-12345678.html") is None
    assert network.canonical("http://127.0.0.9:8765/a/b-12345678.html") is None


def test_select_names_unknown_sites_and_the_known_ones() -> None:
    network = Network.load()
    assert [s.domain for s in network.select(["merkur.de", " FR.de"])] == ["merkur.de", "fr.de"]
    with pytest.raises(RegistryError) as error:
        network.select(["fr.de", "spiegel.de"])
    message = str(error.value)
    assert message.startswith("unknown site spiegel.de; known sites: merkur.de, tz.de, fr.de,")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sites]\n", "is not valid TOML"),
        ("title = 'x'\n", "has no [[sites]] entries"),
        (
            '[[sites]]\nname = "x"\nbase_url = "https://x.de"\n',
            "entry 1: missing or empty 'domain'",
        ),
        (
            '[[sites]]\ndomain = "x.de"\nname = "x"\nbase_url = "x.de"\n',
            "entry 1: base_url must be an http(s) URL, got 'x.de'",
        ),
        (
            '[[sites]]\ndomain = "x.de"\nname = "x"\nbase_url = "https://x.de"\nfeeds = "/f"\n',
            "entry 1: 'feeds' must be a list of URLs",
        ),
        (
            '[[sites]]\ndomain = "x.de"\nname = "x"\nbase_url = "https://x.de"\nfeed = []\n',
            "entry 1: unknown keys feed",
        ),
    ],
)
def test_bad_registry_files_give_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RegistryError) as error:
        Network.load(write(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"cannot read sites registry .*nope.toml"):
        Network.load(tmp_path / "nope.toml")
