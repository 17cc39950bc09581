"""newscrawl's downloader middlewares: the registry's bounds, robots.txt, meta refresh."""
