"""The registry of the network's portals: data, read from a TOML file.

Like fundus's publisher tables, a portal is one declarative entry (domain,
name, base URL and its sources); adding a portal is adding an entry to
``sites.toml``, and no code names a portal. The registry also answers the one
question the crawler keeps asking: does this URL belong to the network, and
under which canonical URL?
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from newscrawl.urls import host_of, origin_of

DEFAULT_SITES_PATH = Path(__file__).with_name("sites.toml")


class RegistryError(ValueError):
    """A registry file or a site selection that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Site:
    domain: str
    """The portal's key, stored with every article (``"fr.de"``)."""
    name: str
    base_url: str
    """Scheme and host (and port) every canonical URL of the portal starts with."""
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ("/",)

    @property
    def host(self) -> str:
        return host_of(self.base_url)

    @property
    def origin(self) -> str:
        """``scheme://host:port`` of ``base_url``: where every request to the portal goes."""
        return origin_of(self.base_url)

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(kind, absolute URL) of every feed, sitemap and start page."""
        return [
            (kind, self.absolute(url))
            for kind, urls in (("feed", self.feeds), ("sitemap", self.sitemaps),
                               ("start page", self.start_pages))
            for url in urls
        ]  # fmt: skip

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", url)

    def canonical(self, url: str) -> str:
        """``url`` with the registry's scheme and host, and nothing after the path."""
        return self.base_url.rstrip("/") + (urlsplit(url.strip()).path or "/")


class Network:
    """The portals of a registry, indexed by host."""

    def __init__(self, sites: Iterable[Site]) -> None:
        self.sites: tuple[Site, ...] = tuple(sites)
        self._by_host: dict[str, Site] = {}
        for site in self.sites:
            if site.host in self._by_host:
                raise RegistryError(f"two sites share the host {site.host}")
            self._by_host[site.host] = site
        self._by_origin = {site.origin: site for site in self.sites}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_SITES_PATH) -> Network:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RegistryError(f"cannot read sites registry {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"sites registry {path} is not valid TOML: {exc}") from None
        entries = data.get("sites")
        if not isinstance(entries, list) or not entries:
            raise RegistryError(f"sites registry {path} has no [[sites]] entries")
        network = cls(
            _site_from_entry(entry, path, number) for number, entry in enumerate(entries, 1)
        )
        for number, site in enumerate(network.sites, 1):
            for kind, url in site.sources:
                if network.site_at(url) is None:
                    raise RegistryError(
                        f"sites registry {path}, entry {number}: {kind} {url!r} is not on a "
                        "portal of the registry (scheme, host and port of a base_url)"
                    )
        return network

    @property
    def domains(self) -> list[str]:
        return [site.domain for site in self.sites]

    def select(self, domains: Iterable[str] | None) -> list[Site]:
        """The sites named by ``domains`` (all sites for ``None``), in registry order."""
        if domains is None:
            return list(self.sites)
        wanted = {domain.strip().lower() for domain in domains if domain.strip()}
        unknown = sorted(wanted - set(self.domains))
        if unknown:
            raise RegistryError(
                f"unknown site{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"known sites: {', '.join(self.domains)}"
            )
        if not wanted:
            raise RegistryError("no site selected; known sites: " + ", ".join(self.domains))
        return [site for site in self.sites if site.domain in wanted]

    def site_for(self, url: str) -> Site | None:
        """The portal serving ``url``; ``fr.de`` and ``m.fr.de`` belong to ``www.fr.de``'s site."""
        try:
            host = host_of(url)
        except ValueError:
            return None
        site = self._by_host.get(host)
        if site is None and host.startswith("www."):
            site = self._by_host.get(host[4:])
        if site is None:
            # A portal's own subdomains and its bare domain are the portal.
            for candidate in self.sites:
                if host == candidate.domain or host.endswith("." + candidate.domain):
                    return candidate
        return site

    def site_at(self, url: str) -> Site | None:
        """The portal whose ``base_url`` has the origin (scheme, host, port) of ``url``.

        The only URLs the crawl requests: what it follows is first mapped to its
        canonical form, so anything else came from a redirect or a source.
        """
        return self._by_origin.get(origin_of(url))

    def canonical(self, url: str) -> tuple[str, Site] | None:
        """The canonical form of a network URL and its site; ``None`` outside the registry."""
        site = self.site_for(url)
        return (site.canonical(url), site) if site else None


def _site_from_entry(entry: object, path: Path, number: int) -> Site:
    where = f"sites registry {path}, entry {number}"
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a table")
    for key in ("domain", "name", "base_url"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise RegistryError(f"{where}: missing or empty '{key}'")
    base_url = entry["base_url"].strip().rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise RegistryError(f"{where}: base_url must be an http(s) URL, got {base_url!r}")
    lists = {}
    for key in ("feeds", "sitemaps", "start_pages"):
        value = entry.get(key, ["/"] if key == "start_pages" else [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise RegistryError(f"{where}: '{key}' must be a list of URLs")
        lists[key] = tuple(value)
    unknown = set(entry) - {"domain", "name", "base_url", *lists}
    if unknown:
        raise RegistryError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    return Site(
        domain=entry["domain"].strip().lower(),
        name=entry["name"].strip(),
        base_url=base_url,
        **lists,
    )
