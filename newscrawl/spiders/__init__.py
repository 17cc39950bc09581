"""Spiders crawl only: they find and fetch pages and yield ArticleItems."""
