"""Page weight (issue 7 point 5): what a worker's phone downloads for each page on a weak signal.

Budgets, counted in bytes received by the phone (headers and bodies, 1 KB = 1000 bytes):
- first visit (empty HTTP cache, no service worker): at most 60 KB, counting the page, its
  assets, the service worker script and everything the service worker precaches or keeps,
  until the network has been quiet for a while;
- repeat visit (the same page opened again on the same phone): at most 15 KB;
- no request to any other host.

The bytes are counted by a small TCP proxy between Chromium and the live server: it sees every
byte of every request, the page's and the service worker's alike (the browser's own service
worker update check included), which Playwright's per-request sizes do not (they report 0 or
less for the service worker's script and its importScripts). Playwright's request events give
the per-URL list shown when a budget is missed.
"""
import re
import select
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from e2e_helpers import ARTIFACTS, PASSWORD, PHONE, WORKER

pytestmark = pytest.mark.e2e

FIRST_VISIT_BUDGET = 60_000
REPEAT_VISIT_BUDGET = 15_000
QUIET_SECONDS = 1.5          # the network counts as idle after this long with no byte either way
SETTLE_LIMIT_SECONDS = 30

SIGNED_IN_PAGES = ["/", "/lone-working/", "/incidents/new", "/waiting"]
SIGNED_OUT_PAGES = ["/auth/sign-in", "/offline"]
REQUEST_LINE = re.compile(rb"^([A-Z]+ \S+) HTTP/1\.[01]\r\n")


class CountingProxy:
    """Forwards TCP connections from 127.0.0.1:<port> to the live server, counting the bytes."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://localhost:{self.port}"
        self.lock = threading.Lock()
        self.received = 0        # server -> phone
        self.sent = 0            # phone -> server
        self.last_activity = time.monotonic()
        # [request line, bytes received for it, answer's status, sent as a navigation preload]
        self.exchanges: list[list] = []
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(downstream,), daemon=True).start()

    def _pump(self, downstream: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        peers = {downstream: upstream, upstream: downstream}
        exchange = None   # Chromium does not pipeline: each answer belongs to the last request
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                if self.closing:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
                    with self.lock:
                        if sock is upstream:
                            self.received += len(data)
                            if exchange is not None:
                                if exchange[1] == 0:
                                    exchange[2] = int(data[9:12])   # b"HTTP/1.1 200 OK"
                                exchange[1] += len(data)
                        else:
                            self.sent += len(data)
                            request_line = REQUEST_LINE.match(data)
                            if request_line:
                                preload = b"\r\nservice-worker-navigation-preload: true\r\n" in data.lower()
                                exchange = [request_line.group(1).decode(), 0, None, preload]
                                self.exchanges.append(exchange)
                        self.last_activity = time.monotonic()
        except OSError:
            return
        finally:
            downstream.close()
            upstream.close()

    def mark(self) -> tuple[int, int]:
        """(bytes received so far, exchanges so far)."""
        with self.lock:
            return self.received, len(self.exchanges)

    def wait_until_quiet(self, page, quiet: float = QUIET_SECONDS, limit: float = SETTLE_LIMIT_SECONDS) -> None:
        """Waits through `page` (not time.sleep): Playwright's sync API only does its work (the
        service worker's requests included) while the test is inside one of its calls."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self.lock:
                idle = time.monotonic() - self.last_activity
            if idle >= quiet:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"the network was never quiet for {quiet} s within {limit} s")

    def close(self) -> None:
        self.closing = True
        self.listener.close()


@pytest.fixture(scope="module")
def proxy(live_server):
    counting = CountingProxy(live_server.port)
    yield counting
    counting.close()


class Visit:
    """A fresh phone (empty caches, no service worker) reaching the app through the proxy."""

    def __init__(self, browser, proxy):
        self.proxy = proxy
        self.context = browser.new_context(base_url=proxy.url, service_workers="allow", **PHONE)
        self.context.set_default_timeout(30_000)
        self.requests: list = []          # every request, the page's and the service worker's
        self.context.on("request", lambda request: self.requests.append(request))
        self.page = None

    def sign_in_without_a_page(self) -> None:
        """Sign in through the context's own HTTP client: only the cookie lands on the phone
        (no page, no asset in the HTTP cache, no service worker)."""
        form = self.context.request.get("/auth/sign-in").text()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        answer = self.context.request.post("/auth/sign-in", form={
            "email": WORKER, "password": PASSWORD, "csrf_token": token}, max_redirects=0)
        assert answer.status in (302, 303), f"sign-in answered {answer.status}"

    def load(self, path: str) -> tuple[int, list, list]:
        """Open `path` and wait until the service worker controls it and the network is quiet;
        answer the bytes received, the requests made meanwhile (Playwright's view: from the
        network, the HTTP cache or the service worker), and what crossed the wire per request."""
        first_request = len(self.requests)
        if self.page is None:
            self.page = self.context.new_page()
        self.proxy.wait_until_quiet(self.page, quiet=0.5)
        start, first_exchange = self.proxy.mark()
        self.page.goto(path)
        self.page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        self.proxy.wait_until_quiet(self.page)
        received, _ = self.proxy.mark()
        return received - start, self.requests[first_request:], self.proxy.exchanges[first_exchange:]

    def close(self) -> None:
        self.context.close()


def _report(label: str, path: str, received: int, requests: list, exchanges: list) -> str:
    lines = [f"{label} {path}: {received} bytes received in {len(exchanges)} answers from the server "
             f"({len(requests)} requests made, the rest answered by the HTTP cache or the service worker)"]
    lines += [f"  {size:7d}  {status}  {request_line}{' (navigation preload)' if preload else ''}"
              for request_line, size, status, preload in exchanges]
    return "\n".join(lines)


def _record(text: str) -> None:
    """Figures are kept in tests/e2e/artifacts/page-weight.txt as well (for bench/README.md)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "page-weight.txt").open("a") as out:
        out.write(text + "\n")


class Weight:
    def __init__(self, path, first, repeat, first_report, repeat_report, hosts):
        self.path, self.first, self.repeat = path, first, repeat
        self.first_report, self.repeat_report, self.hosts = first_report, repeat_report, hosts


def _weigh(browser, proxy, path: str) -> Weight:
    visit = Visit(browser, proxy)
    try:
        if path in SIGNED_IN_PAGES:
            visit.sign_in_without_a_page()
        first, first_requests, first_exchanges = visit.load(path)
        repeat, repeat_requests, repeat_exchanges = visit.load(path)
        first_report = _report("first visit", path, first, first_requests, first_exchanges)
        repeat_report = _report("repeat visit", path, repeat, repeat_requests, repeat_exchanges)
        _record(first_report + "\n" + repeat_report)
        hosts = {urlsplit(r.url).netloc for r in first_requests + repeat_requests if r.url.startswith("http")}
        return Weight(path, first, repeat, first_report, repeat_report, hosts)
    finally:
        visit.close()


@pytest.fixture(scope="module")
def weigh(browser, proxy):
    """weigh(path) -> its Weight, each page weighed once for all the tests of this module."""
    weights: dict[str, Weight] = {}

    def get(path: str) -> Weight:
        if path not in weights:
            weights[path] = _weigh(browser, proxy, path)
        return weights[path]

    return get





@pytest.mark.parametrize("path", SIGNED_OUT_PAGES + SIGNED_IN_PAGES)
def test_worker_page_first_visit_within_60_kb(weigh, path):
    weight = weigh(path)
    assert weight.first <= FIRST_VISIT_BUDGET, weight.first_report


@pytest.mark.parametrize("path", SIGNED_IN_PAGES + SIGNED_OUT_PAGES)
def test_worker_page_repeat_visit_within_15_kb_and_nothing_from_another_host(weigh, proxy, path):
    weight = weigh(path)
    assert weight.hosts == {urlsplit(proxy.url).netloc}, f"requests to other hosts: {weight.hosts}"
    assert weight.repeat <= REPEAT_VISIT_BUDGET, weight.repeat_report


def test_first_visit_downloads_each_versioned_file_once_and_navigations_use_preload(browser, proxy):
    """The service worker's precache takes the files the page has just loaded from the HTTP cache
    (versioned URLs are immutable), instead of downloading them a second time; and with the
    worker in control, a page is fetched once, as a navigation preload made while the worker
    starts (the worker uses that answer rather than fetching the page again)."""
    visit = Visit(browser, proxy)
    try:
        visit.sign_in_without_a_page()
        _, _, first = visit.load("/incidents/new")
        downloads: dict[str, int] = {}
        for request_line, _, status, _ in first:
            if "?v=" in request_line and status == 200:
                downloads[request_line] = downloads.get(request_line, 0) + 1
        assert downloads, "no versioned file was downloaded at all"
        twice = {line: n for line, n in downloads.items() if n > 1}
        assert twice == {}, f"downloaded more than once on the first visit: {twice}"

        state = visit.page.evaluate("navigator.serviceWorker.ready.then(r => r.navigationPreload.getState())")
        assert state["enabled"] is True
        _, _, repeat = visit.load("/incidents/new")
        pages = [(line, preload) for line, _, _, preload in repeat if line == "GET /incidents/new"]
        assert pages == [("GET /incidents/new", True)], repeat
    finally:
        visit.close()
