"""End-to-end fixtures: a real uvicorn serving a fresh demo database, and a real Chromium.

Nothing here skips: without Chromium (Debian's `chromium`, /usr/bin/chromium) or Playwright
for Python, these tests fail and say how to install them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("ROLLTEXT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo negotiation served by uvicorn on a free loopback port (one per module)."""
    database = tmp_path_factory.mktemp("e2e") / "rolltext.db"
    env = {
        **os.environ,
        "ROLLTEXT_DATABASE_URL": f"sqlite:///{database}",
        "ROLLTEXT_SECRET_KEY": "e2e-secret",
        "ROLLTEXT_DEMO": "true",
    }
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "alembic"), "upgrade", "head"], env)
    _run([sys.executable, "-m", "app", "demo"], env)
    port = _free_port()
    log = (tmp_path_factory.getbasetemp() / "uvicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start; see {log.name}", pytrace=False)
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # open event streams keep it waiting: no matter
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium is required for the end-to-end tests and is not at {CHROMIUM}: "
            "apt-get update && apt-get install -y chromium",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is required for the end-to-end tests: "
            ".venv/bin/pip install playwright (no `playwright install`: Debian's Chromium is used)",
            pytrace=False,
        )
    # Module scope: Playwright's sync API holds an event loop on this thread while it runs, so
    # it must be closed before tests that start their own loop.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
