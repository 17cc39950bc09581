"""newscrawl's downloader middlewares: the registry's bounds and a robots.txt fix."""
