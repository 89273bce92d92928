"""The HTTP side: a threaded HTTP/1.1 server speaking the Kubernetes REST API on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from kubesim import errors
from kubesim.api import Api, Request, Response
from kubesim.crud import Crud
from kubesim.faults import Faults
from kubesim.persistence import Persister, read_state, write_state
from kubesim.resources import Registry
from kubesim.seeds import seed_objects
from kubesim.services import Allocator
from kubesim.store import Store

log = logging.getLogger("kubesim")


def json_bytes(body: Any) -> bytes:
    """`body` as compact JSON, encoded as fast as a Go API server encodes it (a list of large
    policies is megabytes); an integer beyond 64 bits, or a key that is not text (from a YAML
    body), takes the standard library's way."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer
    # an idle keep-alive connection is closed after this many seconds
    timeout = 120

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK stall every answer by tens of milliseconds
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:   # noqa: N802 - the http.server naming convention
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET   # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:   # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        # the body is always read first, so an error answer leaves the connection reusable
        body = self._read_body()
        url = urlsplit(self.path)
        sim = self.server.simulator
        fault = sim.faults.take(self.command, url.path)
        if fault is not None:
            if fault.hang:
                sim.faults.released.wait(fault.hang)
            if fault.status:
                exc = errors.injected(fault.status)
                self._send(Response(exc.code, exc.status(), dict(exc.headers)))
                return
        request = Request(self.command, url.path, parse_qs(url.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        try:
            response = sim.api.handle(request)
        except Exception as exc:   # a bug must still answer a Status, never drop the connection
            log.exception("kubesim failed on %s %s", self.command, self.path)
            failure = errors.ApiError(500, "InternalError", f"an error on the server ({exc}) has prevented "
                                      "the request from succeeding")
            response = Response(500, failure.status())
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.stream is not None:
            self._send_stream(response)
            return
        if response.text is not None:
            data, ctype = response.text.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json_bytes(response.body), "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_stream(self, response: Response) -> None:
        assert response.stream is not None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in response.stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            close = getattr(response.stream, "close", None)
            if close:
                close()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that go away mid-request (timeouts, closed pools) are normal, not server errors
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        log.exception("kubesim: unexpected error serving %s", client_address)

    def drop_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SimulatorServer:
    """A Kubernetes API simulator on `host:port` (port 0 picks a free port).

    `seed` is "empty" (the system namespaces only) or "demo" (the demo cluster). With a
    `state_file` the state is loaded from it when it exists (the seed is used otherwise) and
    written back atomically shortly after every change and on `stop()`.
    """

    def __init__(self, seed: str = "empty", state_file: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, history: int = 10_000) -> None:
        self.store = Store(history=history)
        self.registry = Registry()
        self.allocator = Allocator()
        self.api = Api(self.store, self.registry, self.allocator)
        self.faults = Faults()
        self.state_file = state_file
        self.host, self.port = host, port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._persister: Persister | None = None
        state = read_state(state_file) if state_file else None
        if state is not None:
            load_state(self.api.crud, state)
        else:
            load_objects(self.api.crud, seed_objects(seed))
            if state_file:
                write_state(state_file, self.store.dump())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        """Bind and serve in a background thread; returns once connections are accepted."""
        self._httpd = _HttpServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        if self.state_file:
            self._persister = Persister(self.store, self.state_file)
            self._persister.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"kubesim-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: open watches end, hanging faults are released, state is written."""
        self.store.close()
        self.faults.released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.drop_connections()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._persister is not None:
            self._persister.stop()
            self._persister = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_objects(crud: Crud, objects: list[dict[str, Any]]) -> None:
    """Create `objects` in order as they are (status and identity kept), as a seed or import does.

    Raises errors.ApiError naming the object when one is refused.
    """
    crud.restoring = True
    try:
        for obj in objects:
            api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
            rtype = crud.registry.by_kind(api_version, kind)
            if rtype is None:
                raise errors.bad_request(f"no resource serves {kind} in {api_version or 'no apiVersion'}")
            namespace = (obj.get("metadata") or {}).get("namespace") or ("default" if rtype.namespaced else "")
            crud.create(rtype, namespace, obj, manager="kubesim", dry_run=False)
    finally:
        crud.restoring = False


def load_state(crud: Crud, state: dict[str, Any]) -> None:
    """Replace the store with a state-file dump, re-registering its CRDs and address allocations."""
    crud.store.load(state)
    for crd in crud.store.scan("customresourcedefinitions.apiextensions.k8s.io"):
        crud.registry.register_crd(crd)
    crud.allocator.reset(list(crud.store.scan("services")))


def serve_forever(seed: str = "demo", state_file: str | None = None, host: str = "127.0.0.1",
                  port: int = 8001) -> None:
    """Serve in the foreground until interrupted (Ctrl-C or SIGTERM), then write the state."""
    server = SimulatorServer(seed=seed, state_file=state_file, host=host, port=port)
    server.start()
    done = threading.Event()

    def finish(*_args: object) -> None:
        done.set()

    previous = signal.signal(signal.SIGTERM, finish)
    print(f"Kubernetes API simulator serving {server.url} (seed {seed}"
          f"{', state ' + state_file if state_file else ''}); Ctrl-C stops it", flush=True)
    try:
        while not done.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
