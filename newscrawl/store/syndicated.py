"""Stories on more than one portal, most portals first, then newest first: the
``syndicated`` table of ``stats``, counted from indexes at any store size.

Sorting every story on two portals by date read each of them (300,000 rows in a store
of a million). Instead ``syndicated`` counts how many stories have each portal count
(one scan of the (article, site) index of ``article_urls``), takes the stories above the
last count needed whole (fewer than the limit), and of the last count only the newest
needed: by walking the stories newest first (``ix_articles_published_desc``, migration
0008) when that count has many stories, else by sorting its few stories by date.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Subquery, distinct, func, select

from newscrawl.store.models import Article, ArticleUrl

WALK_FROM_TIER = 2000
"""Stories of the last portal count needed above which ``syndicated`` walks the newest
stories (each a seek for its portals) instead of sorting them all by date."""


def _portals_of_each() -> Select[Any]:
    """(article, portals) of every story on more than one portal, from the (article,
    site) index of article_urls alone."""
    portals = func.count(distinct(ArticleUrl.site))
    return (
        select(ArticleUrl.article, portals.label("portals"))
        .group_by(ArticleUrl.article)
        .having(portals > 1)
    )


def _portals_of_article() -> Any:
    """The portals of the story in the enclosing query's ``articles`` row (one seek)."""
    return (
        select(func.count(distinct(ArticleUrl.site)))
        .where(ArticleUrl.article == Article.id)
        .scalar_subquery()
    )


def syndicated(conn: Connection, where: list[ColumnElement[bool]], limit: int) -> Select[Any]:
    """The top ``limit`` stories on more than one portal that meet ``where`` (see the
    module), as a statement of their rows: id, published_at, portals, sites, title, url.
    """
    per_story: Subquery
    if where:
        # Filters narrow the stories first (their own indexes), each then one seek.
        portals = _portals_of_article()
        per_story = (
            select(Article.id.label("article"), portals.label("portals"), Article.published_at)
            .where(*where, portals > 1)
            .subquery()
        )
        tier = select(per_story.c.article.label("id"), per_story.c.published_at)
    else:
        per_story = _portals_of_each().subquery()
        # At most WALK_FROM_TIER stories are read for their date.
        tier = select(Article.id, Article.published_at).join(
            per_story, per_story.c.article == Article.id
        )
    tiers = conn.execute(
        select(per_story.c.portals, func.count())
        .group_by(per_story.c.portals)
        .order_by(per_story.c.portals.desc())
    ).all()
    taken, last, last_size = 0, None, 0
    for portals, size in tiers:
        last, last_size = portals, size
        if taken + size >= limit:
            break
        taken += size
    if last is None:
        return _syndicated_rows([])
    ids: list[int] = []
    if taken:  # another pass over the index only if there are stories above the last count
        above = select(per_story.c.article).where(per_story.c.portals > last)
        ids += conn.execute(above).scalars()
    if last_size > WALK_FROM_TIER:
        walk = select(Article.id).where(*where, _portals_of_article() == last)
        walk = walk.order_by(Article.published_at.desc().nulls_last(), Article.id)
    else:
        found = tier.where(per_story.c.portals == last).subquery()
        walk = select(found.c.id).order_by(found.c.published_at.desc().nulls_last(), found.c.id)
    ids += conn.execute(walk.limit(limit - taken)).scalars()
    return _syndicated_rows(ids)


def _syndicated_rows(ids: list[int]) -> Select[Any]:
    """The rows of the stories ``ids``: portal count, their sites, best first."""
    publications = (
        select(ArticleUrl.article, ArticleUrl.site)
        .where(ArticleUrl.article.in_(ids))
        .distinct()
        .subquery()
    )
    multi = (
        select(
            publications.c.article,
            func.count().label("portals"),
            func.aggregate_strings(publications.c.site, ",").label("sites"),
        )
        .group_by(publications.c.article)
        .subquery()
    )
    return (
        select(
            Article.id,
            Article.published_at,
            multi.c.portals,
            multi.c.sites,
            Article.title,
            Article.url,
        )
        .join(multi, multi.c.article == Article.id)
        .order_by(multi.c.portals.desc(), Article.published_at.desc().nulls_last(), Article.id)
    )
