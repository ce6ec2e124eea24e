"""A tiny Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

Why CDP and not ``--dump-dom``: the page is checked the way a person sees it. CDP reports
every console message, JavaScript exception, failed or blocked resource (including CSP
violations) and every network request, and can read each ``<img>``'s ``naturalWidth`` and
take a full-page screenshot, all in one browser run. The pipe transport needs no port, no
websocket library and no network: Chromium reads commands on fd 3 and writes replies on
fd 4, each a JSON message terminated by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    env = os.environ.get("HWFLOW_CHROMIUM")
    if env and Path(env).exists():
        return env
    for c in CANDIDATES:
        p = shutil.which(c)
        if p:
            return p
    return None


@dataclass
class PageCheck:
    """What the browser saw while loading a page."""

    images: list[dict[str, Any]] = field(default_factory=list)  # {alt, complete, naturalWidth, naturalHeight}
    console: list[dict[str, Any]] = field(default_factory=list)  # every console / log entry
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # URLs the page asked for
    failed: list[str] = field(default_factory=list)  # loading failures
    title: str = ""
    text_len: int = 0
    screenshot: Path | None = None

    @property
    def errors(self) -> list[str]:
        errs = [f"console {c['level']}: {c['text']}" for c in self.console if c["level"] in ("error", "warning")]
        return errs + [f"exception: {e}" for e in self.exceptions] + [f"failed: {f}" for f in self.failed]


class CDPError(RuntimeError):
    pass


class _Pipe:
    def __init__(self, proc: subprocess.Popen, wfd: int, rfd: int) -> None:
        self.proc, self.wfd, self.rfd = proc, wfd, rfd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for m in self._read(deadline):
                if m.get("id") == mid:
                    if "error" in m:
                        raise CDPError(f"{method}: {m['error']}")
                    return m.get("result", {})
                self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            for m in self._read(deadline):
                if m.get("method") == method:
                    return m
                self.events.append(m)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.extend(self._read(deadline))
        except TimeoutError:
            pass

    def _read(self, deadline: float) -> list[dict[str, Any]]:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from chromium")
            r, _, _ = select.select([self.rfd], [], [], left)
            if not r:
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise CDPError(f"chromium closed the pipe (exit {self.proc.poll()})")
            self.buf += chunk
        *msgs, self.buf = self.buf.split(b"\0")
        return [json.loads(m) for m in msgs if m]


def check_page(html: Path, screenshot: Path | None = None, *, width: int = 1280, timeout: float = 60.0) -> PageCheck:
    """Open ``html`` in headless Chromium and report what happened (see :class:`PageCheck`)."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found")
    profile = tempfile.mkdtemp(prefix="hwflow-chromium-")
    # fds: chromium reads commands on 3 and writes replies on 4.
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()

    def _child_fds() -> None:
        # Move the ends out of the way first, then onto 3 and 4 (they may collide with 3/4).
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--remote-debugging-pipe",
        "about:blank",
    ]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_child_fds,
        close_fds=False,
    )
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    pipe = _Pipe(proc, to_chrome_w, from_chrome_r)
    res = PageCheck()
    try:
        tgt = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)
        sess = pipe.send("Target.attachToTarget", {"targetId": tgt["targetId"], "flatten": True})["sessionId"]
        for dom in ("Page", "Runtime", "Log", "Network"):
            pipe.send(f"{dom}.enable", session=sess)
        pipe.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=sess,
        )
        pipe.send("Page.navigate", {"url": html.resolve().as_uri()}, session=sess)
        pipe.wait_event("Page.loadEventFired", timeout=timeout)
        pipe.drain(0.5)  # late console messages / failures
        js = (
            "JSON.stringify({title: document.title, text: document.body ? document.body.innerText.length : 0,"
            " images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,"
            " naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight, src: i.src.slice(0, 40)}))})"
        )
        ev = pipe.send("Runtime.evaluate", {"expression": js, "returnByValue": True}, session=sess)
        info = json.loads(ev["result"]["value"])
        res.title, res.text_len, res.images = info["title"], info["text"], info["images"]
        if screenshot is not None:
            h = pipe.send(
                "Runtime.evaluate",
                {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
                session=sess,
            )["result"]["value"]
            pipe.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": int(min(h, 16000)), "deviceScaleFactor": 1, "mobile": False},
                session=sess,
            )
            shot = pipe.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True},
                session=sess,
                timeout=timeout,
            )
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            res.screenshot = screenshot
        pipe.drain(0.2)
        for e in pipe.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                res.console.append(
                    {
                        "level": "warning"
                        if p.get("type") == "warning"
                        else ("error" if p.get("type") in ("error", "assert") else p.get("type")),
                        "text": text,
                    }
                )
            elif m == "Log.entryAdded":
                en = p.get("entry", {})
                res.console.append(
                    {"level": en.get("level"), "text": f"{en.get('source')}: {en.get('text')} {en.get('url', '')}"}
                )
            elif m == "Runtime.exceptionThrown":
                res.exceptions.append(str(p.get("exceptionDetails", {}).get("text")))
            elif m == "Network.requestWillBeSent":
                res.requests.append(p.get("request", {}).get("url", ""))
            elif m == "Network.loadingFailed":
                res.failed.append(f"{p.get('errorText')} {p.get('blockedReason') or ''}".strip())
        try:
            pipe.send("Browser.close", timeout=5)
        except (CDPError, TimeoutError):
            pass
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for fd in (to_chrome_w, from_chrome_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if proc.stderr:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)
    return res
