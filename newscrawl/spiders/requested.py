"""The article links one run has requested already, so that each is requested once.

An article page links about six articles, five of them requested before by this run.
Each such request cost as much in Scrapy's spider middlewares and scheduler (which then
dropped it as a duplicate) as reading the page's links: a fifth of the crawl process's
CPU in a profile. Dropping the repeat before a ``Request`` is made changes nothing a
request decides: an identical request (same canonical URL, no source date) gets the
same answer at every step on its way, from the incremental policy (the store only grows
during a run) to the scheduler's duplicate filter, which holds the first one.

Only undated links are remembered. A dated request (a sitemap or feed entry) may pass
the incremental policy where the same URL undated was skipped (its source dates it
after the stored copy), so it goes on to the scheduler as before. With ``DEPTH_LIMIT``
set, the same link may be dropped on a deep page and wanted on a shallow one: then
nothing is remembered. A resumed job's earlier requests are JOBDIR's filter's to drop,
as before; this set holds only the running process's.
"""

from __future__ import annotations


class RequestedLinks:
    """Canonical URLs of the undated article links requested so far in this run."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._urls: set[str] = set()

    def first_time(self, canonical: str) -> bool:
        """True the first time an undated link to ``canonical`` is asked about (it is then
        remembered as requested), False after that."""
        if not self.enabled:
            return True
        if canonical in self._urls:
            return False
        self._urls.add(canonical)
        return True
