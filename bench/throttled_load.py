"""Benchmark: how soon a lone worker can tap "I'm OK" on a weak signal.

Loads /lone-working/ for a signed-in worker whose session is running (one is started first, so
the status screen with "I'm OK" shows) over a throttled connection, and reports the time from
the start of the navigation until "I'm OK" is usable: visible, enabled, and the page's scripts
have run (DOMContentLoaded), so a tap goes through the outbox. Two figures, median of --runs:
  - cold: a fresh phone (empty HTTP cache, no service worker; only the sign-in cookie);
  - warm: the same phone opening the page again once the first load has settled.

The throttle is a small proxy in front of the app (default 400 kbit/s down and up, shared by
every connection, and 400 ms added to each round trip: 200 ms each way). Chromium's own network
emulation (CDP Network.emulateNetworkConditions) is set per page, and this Chromium does not
apply it to the service worker's fetches (measured: the worker's precache of 130 KB took 0.1 s
under a 400 kbit/s page throttle), so it would leave out what the worker downloads at the same
time as the page, and the navigations the worker fetches on a warm load.

Usage:
  .venv/bin/python bench/throttled_load.py [--runs 5] [--kbit 400] [--rtt-ms 400]
"""
import argparse
import contextlib
import heapq
import itertools
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, PHONE, WORKER, LiveServer  # noqa: E402

# Records (in the page) when "I'm OK" first became usable, in ms since the navigation started.
WATCH_OK_BUTTON = """(() => {
    if (location.pathname !== '/lone-working/') return;
    const usable = () => {
        const button = document.getElementById('lw-ok');
        return button && !button.disabled && button.offsetParent !== null
            && getComputedStyle(button).visibility !== 'hidden';
    };
    const watch = () => {
        if (usable()) { window.__okUsableAt = performance.now(); return; }
        setTimeout(watch, 10);
    };
    document.addEventListener('DOMContentLoaded', watch);
})();"""


class ThrottledLink:
    """One direction of a shared link: bytes queue for the bandwidth, then wait the one-way delay."""

    def __init__(self, bytes_per_second: float, one_way_delay: float):
        self.bytes_per_second = bytes_per_second
        self.one_way_delay = one_way_delay
        self.lock = threading.Lock()
        self.free_at = 0.0

    def deliver_at(self, size: int) -> float:
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + size / self.bytes_per_second
            return self.free_at + self.one_way_delay


class ThrottlingProxy:
    """127.0.0.1:<port> -> the app, every connection sharing one throttled link each way."""

    CHUNK = 1460   # about one TCP segment, so a large answer does not jump the queue

    def __init__(self, upstream_port: int, kbit: float, rtt_ms: float):
        rate = kbit * 1000 / 8
        self.down = ThrottledLink(rate, rtt_ms / 2000)
        self.up = ThrottledLink(rate, rtt_ms / 2000)
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://localhost:{self.listener.getsockname()[1]}"
        self.last_activity = time.monotonic()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for source, target, link in ((downstream, upstream, self.up), (upstream, downstream, self.down)):
                threading.Thread(target=self._forward, args=(source, target, link), daemon=True).start()

    def _forward(self, source: socket.socket, target: socket.socket, link: ThrottledLink) -> None:
        queue: list = []
        order = itertools.count()
        ready = threading.Condition()
        done = threading.Event()

        def send() -> None:
            while True:
                with ready:
                    while not queue and not done.is_set():
                        ready.wait()
                    if not queue:
                        break
                    when, _, data = queue[0]
                    wait = when - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(queue)
                try:
                    target.sendall(data)
                    self.last_activity = time.monotonic()
                except OSError:
                    break
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            while True:
                data = source.recv(self.CHUNK)
                if not data:
                    break
                with ready:
                    heapq.heappush(queue, (link.deliver_at(len(data)), next(order), data))
                    ready.notify()
        except OSError:
            pass
        finally:
            with ready:
                done.set()
                ready.notify()
            sender.join(timeout=120)
            source.close()

    def close(self) -> None:
        self.listener.close()


def sign_in_cookie_only(context) -> None:
    """Only the session cookie lands on the phone: no page, no cached asset, no service worker."""
    form = context.request.get("/auth/sign-in").text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = context.request.post("/auth/sign-in", form={"email": WORKER, "password": PASSWORD, "csrf_token": token},
                                  max_redirects=0)
    if answer.status not in (302, 303):
        raise RuntimeError(f"sign-in answered {answer.status}")


def start_a_session(browser, base_url: str) -> None:
    """Unthrottled, as the worker would: start a home visit from the start form, wait until sent."""
    from lw_e2e import start_session, wait_outbox_empty

    context = browser.new_context(base_url=base_url, service_workers="allow", permissions=["geolocation"],
                                  geolocation={"latitude": 52.63, "longitude": 1.29, "accuracy": 12}, **PHONE)
    try:
        sign_in_cookie_only(context)
        page = context.new_page()
        page.goto("/lone-working/")
        if page.locator("#lw-ok").is_visible():
            return
        start_session(page, "Benchmark house", "60")
        wait_outbox_empty(page, timeout=60)
        page.goto("/lone-working/")
        page.locator("#lw-ok").wait_for(state="visible")
    finally:
        context.close()


def settle(page, proxy: ThrottlingProxy, quiet: float = 2.0) -> None:
    """Until the service worker controls the page and nothing has crossed the link for `quiet` s
    (the precache and the kept pages are in)."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=180_000)
    deadline = time.monotonic() + 180
    while time.monotonic() - proxy.last_activity < quiet and time.monotonic() < deadline:
        page.wait_for_timeout(100)   # waiting inside Playwright lets the worker's fetches run


def time_to_ok(page) -> float:
    page.goto("/lone-working/", wait_until="commit", timeout=180_000)
    page.wait_for_function("() => window.__okUsableAt !== undefined", timeout=180_000)
    return page.evaluate("window.__okUsableAt") / 1000


def one_run(browser, proxy: ThrottlingProxy) -> tuple[float, float]:
    context = browser.new_context(base_url=proxy.url, service_workers="allow", **PHONE)
    try:
        context.add_init_script(WATCH_OK_BUTTON)
        sign_in_cookie_only(context)
        page = context.new_page()
        cold = time_to_ok(page)
        settle(page, proxy)
        warm = time_to_ok(page)
        return cold, warm
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kbit", type=float, default=400, help="link speed each way, kbit/s")
    parser.add_argument("--rtt-ms", type=float, default=400, help="added round-trip time, ms")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="throttled-load-"))
    server = LiveServer(workdir, f"sqlite:///{workdir / 'bench.db'}", {})
    server.prepare_database()
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            start_a_session(browser, server.url)
            proxy = ThrottlingProxy(server.port, args.kbit, args.rtt_ms)
            colds, warms = [], []
            for run in range(1, args.runs + 1):
                cold, warm = one_run(browser, proxy)
                colds.append(cold)
                warms.append(warm)
                print(f"run {run}: cold {cold:.2f} s, warm {warm:.2f} s", flush=True)
            proxy.close()
            browser.close()
    finally:
        server.stop()
    print(f"\n/lone-working/ to a usable \"I'm OK\" over {args.kbit:g} kbit/s each way, +{args.rtt_ms:g} ms RTT, "
          f"median of {args.runs}:")
    print(f"  cold (fresh phone):  {statistics.median(colds):.2f} s  (runs: {', '.join(f'{c:.2f}' for c in colds)})")
    print(f"  warm (second load):  {statistics.median(warms):.2f} s  (runs: {', '.join(f'{w:.2f}' for w in warms)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
