"""Drive a study server the way raters do: for load tests, benchmarks and end-to-end checks.

`StudyServer` runs `sonosynth study serve` as a real subprocess on 127.0.0.1 (its log
captured to a file); `run_raters` answers as many raters at once, each in its own thread
with its own HTTP connection, and records every request's status and latency.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StudyServer:
    """`sonosynth study serve STUDY` on a free loopback port; `kill()` is SIGKILL (no clean shutdown)."""

    def __init__(self, study: Path, log_path: Path, port: int | None = None) -> None:
        self.study, self.log_path = Path(study), Path(log_path)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "StudyServer":
        import httpx

        env = dict(os.environ, PYTHONUNBUFFERED="1")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "sonosynth.cli", "-q", "study", "serve", str(self.study),
                                      "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"study server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("study server did not start in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "StudyServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Request:
    rater: int
    kind: str  # next | media | answer
    status: int  # 0: connection failed
    seconds: float
    case: str | None = None


@dataclass
class LoadResult:
    requests: list[Request] = field(default_factory=list)
    wall_seconds: float = 0.0

    def answers(self, status: int = 201) -> list[Request]:
        return [r for r in self.requests if r.kind == "answer" and r.status == status]

    def figures(self) -> dict:
        """answers/s and latency percentiles of acknowledged answers (ms)."""
        lat = np.array([r.seconds for r in self.answers()]) * 1000
        every = np.array([r.seconds for r in self.requests if r.status]) * 1000
        return {"answers": len(lat), "requests": len(self.requests), "wall_s": self.wall_seconds,
                "answers_per_s": len(lat) / self.wall_seconds if self.wall_seconds else 0.0,
                "answer_p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
                "answer_p95_ms": float(np.percentile(lat, 95)) if len(lat) else None,
                "request_p50_ms": float(np.percentile(every, 50)) if len(every) else None,
                "request_p95_ms": float(np.percentile(every, 95)) if len(every) else None,
                "server_errors": sum(1 for r in self.requests if r.status >= 500),
                "failed_connections": sum(1 for r in self.requests if r.status == 0)}


def _rater(url: str, index: int, token: str, n_answers: int, deadline: float, seed: int,
           out: list[Request], lock: threading.Lock, fetch_media: bool) -> None:
    """One rater: next case, (its clip), an answer; until done, `n_answers` given, or the deadline."""
    import httpx

    rng = np.random.default_rng([seed, index])
    base = f"{url}/r/{token}/"
    mine: list[Request] = []

    def timed(kind: str, fn, case: str | None = None):
        t = time.perf_counter()
        try:
            r = fn()
            mine.append(Request(index, kind, r.status_code, time.perf_counter() - t, case))
            return r
        except httpx.TransportError:
            mine.append(Request(index, kind, 0, time.perf_counter() - t, case))
            return None

    with httpx.Client(timeout=30.0) as client:
        given = 0
        while given < n_answers and time.monotonic() < deadline:
            nxt = timed("next", lambda: client.get(base + "api/next"))
            if nxt is None or nxt.status_code != 200 or nxt.json()["done"]:
                break
            case = nxt.json()
            if fetch_media:
                m = timed("media", lambda: client.get(base + case["video"]), case["case"])
                if m is None:
                    break
            form = {"case": case["case"], "verdict": ("real", "synthetic")[int(rng.integers(2))],
                    "confidence": str(rng.integers(1, 4)), "realism": str(rng.integers(1, 6))}
            a = timed("answer", lambda: client.post(base + "api/answer", data=form), case["case"])
            if a is None:
                break
            given += a.status_code == 201
    with lock:
        out.extend(mine)


def run_raters(url: str, tokens: list[str], n_answers: int, time_limit: float = 120.0, seed: int = 0,
               fetch_media: bool = True) -> LoadResult:
    """All raters at once, one thread each; returns every request made."""
    out: list[Request] = []
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit
    threads = [threading.Thread(target=_rater, args=(url, i, t, n_answers, deadline, seed, out, lock, fetch_media))
               for i, t in enumerate(tokens)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(out, time.perf_counter() - t0)


def write_demo_clips(folder: Path, n: int, synthetic: bool, seed: int = 0, size: int = 32, frames: int = 8) -> list[Path]:
    """Small moving-speckle clips (.npz) for load tests: the 'synthetic' ones are smoother."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, int(synthetic)])
    paths = []
    for i in range(n):
        speckle = rng.gamma(2.0, 40.0, (frames, size, size))
        if synthetic:
            speckle = (speckle + np.roll(speckle, 1, axis=2) + np.roll(speckle, 1, axis=1)) / 3
        p = folder / f"clip{i:03d}.npz"
        np.savez(p, frames=np.clip(speckle, 0, 255).astype(np.uint8), fps=np.float64(20.0))
        paths.append(p)
    return paths
