"""HTTP plumbing: one ThreadingHTTPServer per loopback address, a shared port, a request log.

Runs in its own process (started by :class:`~tests.mocknet.network.MockNetwork` or
``python -m tests.mocknet``) so the cost of serving never lands in the crawler's process.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from tests.mocknet import hostile
from tests.mocknet.site import Response, respond
from tests.mocknet.spec import OUTSIDE, PORTALS, NetworkSpec
from tests.mocknet.state import StateFile

REQUEST_LOG = "requests.jsonl"
STATE_FILE = "state.json"


class RequestLog:
    """Append-only JSON lines; written before the response so a reader never lags behind."""

    def __init__(self, path: Path) -> None:
        # append mode (O_APPEND): a reset that truncates the file keeps working
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, record: dict[str, object]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], domain: str, site: Site, bind_and_activate: bool = True
    ) -> None:
        self.domain = domain
        self.site = site
        self.twin = False
        """fr.de's twin on another port (hostile.py): its robots.txt disallows everything."""
        super().__init__(address, _Handler, bind_and_activate)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Scrapy reuses connections
    server: _Server

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        if path.startswith(hostile.PREFIX) and self.server.domain == hostile.HOSTILE_PORTAL:
            response = hostile.respond(site.spec, self.path, site.twin_port)
        elif path == "/robots.txt" and self.server.twin:
            response = Response(200, "text/plain", b"User-agent: *\nDisallow: /\n")
        else:
            response = respond(site.spec, site.state, self.server.domain, path)
        if response.status == 200 and _not_modified(self.headers, response):
            response = Response(304, headers=response.headers)
        site.log.write({
            "host": f"{self.server.server_address[0]}:{self.server.server_address[1]}",
            "path": self.path, "method": self.command, "status": response.status,
            "headers": dict(self.headers.items()), "time": time.time(),
        })  # fmt: skip
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        stream = getattr(response, "stream", None)
        if stream is not None:
            self._stream(stream, head)
            return
        body = b"" if response.status == 304 else response.body
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _stream(self, chunks, head: bool) -> None:
        """A body of unknown length: chunks as they come, the connection closed after."""
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if head:
            return
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:  # the client hung up: what a bounded crawler does
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass  # the JSON request log is the record; stderr stays quiet for pytest


def _not_modified(headers, response: Response) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return response.etag in tags or "*" in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since and response.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return response.last_modified.replace(microsecond=0) <= since
    return False


class Site:
    """Everything the handlers share: spec, update state, request log."""

    def __init__(self, spec: NetworkSpec, workdir: Path) -> None:
        self.spec = spec
        self.twin_port = 0
        self.state = StateFile(workdir / STATE_FILE)
        self.log = RequestLog(workdir / REQUEST_LOG)


def bind_all(ips: list[str], port: int = 0, attempts: int = 50) -> list[socket.socket]:
    """Sockets bound on every address with one shared port.

    Port 0 binds a free port on the first address and reuses it on the others; when one of
    them has it taken already, all are closed and another free port is tried.
    """
    for _ in range(attempts):
        sockets: list[socket.socket] = []
        shared = port
        try:
            for ip in ips:
                sockets.append(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                sockets[-1].bind((ip, shared))
                shared = sockets[-1].getsockname()[1]
            return sockets
        except OSError:
            for sock in sockets:
                sock.close()
            if port:
                raise
    raise OSError(f"no port free on all of {ips} after {attempts} attempts")


def _server_on(sock: socket.socket, domain: str, site: Site) -> _Server:
    server = _Server(sock.getsockname(), domain, site, bind_and_activate=False)
    server.socket.close()
    server.socket = sock  # already bound by bind_all: no window for another process
    server.server_name, server.server_port = sock.getsockname()  # no reverse DNS lookup
    server.server_activate()
    return server


def serve(
    articles_per_portal: int, seed: int, workdir: Path, port: int = 0,
    archive_epoch: datetime | None = None,
) -> tuple[NetworkSpec, list[_Server]]:  # fmt: skip
    """Bind and start all portal servers in background threads; return spec and servers."""
    portals = [*PORTALS, OUTSIDE]
    sockets = bind_all([p.ip for p in portals], port)
    spec = NetworkSpec(
        articles_per_portal, seed, sockets[0].getsockname()[1], archive_epoch=archive_epoch
    )
    site = Site(spec, workdir)
    servers = [_server_on(sock, p.domain, site) for sock, p in zip(sockets, portals, strict=True)]
    twin = _server_on(bind_all([PORTALS[0].ip])[0], PORTALS[0].domain, site)
    twin.twin = True
    site.twin_port = twin.server_port
    (workdir / hostile.TWIN_FILE).write_text(json.dumps({"port": twin.server_port}))
    servers.append(twin)
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    return spec, servers
