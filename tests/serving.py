"""Live servers on 127.0.0.1 for the tests: `gazetteer serve` in a child process (the
production server, as users run it), an app on waitress in a thread, and a headless Chromium
tab that records what runs in it."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import stop

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's
HAS_CHROMIUM = Path(CHROMIUM).exists()


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path  # the child's stdout and stderr

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
        """One request on a fresh connection: (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, **kwargs) -> tuple[int, dict]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(database: Path, log: Path, startup_seconds: float = 60,
           **settings: str) -> Iterator[Server]:
    """Run `gazetteer serve` over database (settings as GAZETTEER_* variables) until the
    block ends; the child imports this checkout of the package."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GAZETTEER_")},
           "PYTHONPATH": str(PROJECT), "GAZETTEER_DATABASE": str(database),
           "GAZETTEER_HOST": "127.0.0.1", "GAZETTEER_PORT": str(port),
           **{f"GAZETTEER_{k.upper()}": v for k, v in settings.items()}}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gazetteer.cli", "serve"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    server = Server(port, process, log)
    try:
        _wait_until_up(server, startup_seconds)
        yield server
    finally:
        stop(process)


def _wait_until_up(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gazetteer serve exited: {server.log.read_text()[-2000:]}")
        try:
            if server.request("GET", "/healthz", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gazetteer serve did not answer /healthz in time")


@contextmanager
def threaded(app, threads: int = 4) -> Iterator[str]:
    """The Flask app on waitress in a thread of this process, on a free loopback port: yields
    its base URL until the block ends."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # The loop's own thread closes the sockets (a trigger's thunk), so its map empties and
        # the loop ends; closed from this thread, a socket could vanish under the loop's
        # select() (EBADF in the server's thread, reported at the next test's setup).
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        loop.join(timeout=30)
        server.task_dispatcher.shutdown()
        assert not loop.is_alive(), "the waitress loop did not end"


@contextmanager
def chromium_tab() -> Iterator:
    """A headless Chromium tab; script errors and dialogs (dismissed) are recorded in
    tab.ran, so anything there is a failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.ran = []
        tab.on("pageerror", lambda exc: tab.ran.append(f"error: {exc}"))
        tab.on("dialog", lambda dialog: (tab.ran.append(f"dialog: {dialog.message}"),
                                         dialog.dismiss()))
        try:
            yield tab
        finally:
            browser.close()
