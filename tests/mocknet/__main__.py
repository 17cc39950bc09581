"""``python -m tests.mocknet --articles-per-portal 500 --workdir DIR``: serve until stopped.

Prints the registry path (then the port) and serves until Ctrl-C or SIGTERM. With
``--ready-file`` it also writes ``{"port": ..., "registry": ...}`` there once serving,
which is how :class:`~tests.mocknet.network.MockNetwork` waits for its server process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from tests.mocknet.registry import write_registry
from tests.mocknet.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mocknet", description=__doc__)
    parser.add_argument("--articles-per-portal", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0, help="0: pick a free one")
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument(
        "--archive-epoch", type=datetime.fromisoformat,
        help="serve a two-year archive ending at this ISO time (ids grow with time)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.articles_per_portal < 5:
        parser.error("--articles-per-portal must be at least 5")
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        spec, servers = serve(
            args.articles_per_portal, args.seed, args.workdir, args.port, args.archive_epoch
        )
    except FileNotFoundError as error:
        print(f"mocknet: missing file: {error.filename}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"mocknet: cannot bind the loopback addresses: {error}", file=sys.stderr)
        return 1
    registry = write_registry(spec, args.workdir / "registry.toml")
    print(registry, flush=True)
    print(f"port {spec.port}", flush=True)
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": spec.port, "registry": str(registry)}))
        os.replace(tmp, args.ready_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
