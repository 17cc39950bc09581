"""``python -m benchmarks._ceiling PAGES_DIR OUT.json``: trafilatura alone, one process.

The ceiling is what a plain trafilatura user runs on pages already in hand:
``trafilatura.extract(html, output_format="json", with_metadata=True)`` in a loop. The
pages are read into memory first, so only the extraction is timed; its wall time is one
core's throughput, its CPU time the extraction's cost per page.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import trafilatura


def main(argv: list[str]) -> int:
    pages_dir, out = Path(argv[0]), Path(argv[1])
    pages = [path.read_text(encoding="utf-8") for path in sorted(pages_dir.glob("*.html"))]
    extracted = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for html in pages:
        if trafilatura.extract(html, output_format="json", with_metadata=True):
            extracted += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out.write_text(json.dumps({"pages": len(pages), "extracted": extracted,
                               "wall": wall, "cpu": cpu}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
