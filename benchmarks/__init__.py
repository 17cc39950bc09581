"""Benchmarks of newscrawl: ``python benchmarks/run.py`` (see BENCHMARKS.md)."""
