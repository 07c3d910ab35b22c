"""Throughput under gunicorn (2 workers) on loopback: wrk with a Lua script, or a Python fallback.

Every loop is bounded in time and count; traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import env
from bench.measure import pct

HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8100"))
MAX_REQUESTS = 200_000


def session_cookie(username: str) -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Gunicorn:
    def __init__(self, url: str, workers: int = 2):
        self.url = url
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115

    def __enter__(self) -> Gunicorn:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "liaison_crm.wsgi:application",
            "--workers",
            str(self.workers),
            "--bind",
            f"{HOST}:{PORT}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=env.ROOT, env=env.bench_environ(self.url), stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log.name}")
            try:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
                conn.request("GET", "/accounts/login/")
                conn.getresponse().read()
                conn.close()
                if len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def worker_pids(self) -> list[int]:
        if not self.proc:
            return []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(p) for p in children]

    def worker_memory_mb(self) -> dict:
        """Peak (VmHWM) and current (VmRSS) resident memory of each worker."""
        out = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            out[pid] = {
                "peak_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
                "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
            }
        return out

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def ensure_wrk(install: bool) -> str | None:
    path = shutil.which("wrk")
    if path or not install:
        return path
    print("  wrk not found: trying apt-get install wrk", flush=True)
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            timeout=180,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which("wrk")


LUA = """
local targets = %s
local counter = 0
request = function()
  counter = counter %% #targets + 1
  local t = targets[counter]
  return wrk.format("GET", t[1], {["Cookie"] = "sessionid=" .. t[2]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"max_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(wrk: str, targets: list[tuple[str, str]], duration: int, connections: int) -> dict:
    table = "{" + ",".join(f"{{{json.dumps(p)},{json.dumps(c)}}}" for p, c in targets) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % table)
        script = fh.name
    try:
        proc = subprocess.run(
            [
                wrk,
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                "-s",
                script,
                f"http://{HOST}:{PORT}/",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
        )
    finally:
        os.unlink(script)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    data = json.loads(line[len("BENCH_JSON ") :])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    seconds = data["duration_us"] / 1e6
    return {
        "tool": "wrk",
        "connections": connections,
        "seconds": round(seconds, 1),
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(data["p50_us"] / 1000, 1),
        "p95_ms": round(data["p95_us"] / 1000, 1),
        "max_ms": round(data["max_us"] / 1000, 1),
        "errors": errors,
        "error_detail": {k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


def run_python(targets: list[tuple[str, str]], duration: int, connections: int) -> dict:
    """A bounded thread pool of keep-alive connections (the fallback when wrk is unavailable)."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + duration
    per_thread_cap = MAX_REQUESTS // connections

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
        local, local_errors = [], {}
        i = offset
        while time.monotonic() < deadline and len(local) < per_thread_cap:
            path, cookie = targets[i % len(targets)]
            i += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    local_errors[str(resp.status)] = local_errors.get(str(resp.status), 0) + 1
            except (OSError, http.client.HTTPException) as exc:
                local_errors[type(exc).__name__] = local_errors.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
            local.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(local)
            for k, v in local_errors.items():
                errors[k] = errors.get(k, 0) + v

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    seconds = time.monotonic() - started
    return {
        "tool": "python threads",
        "connections": connections,
        "seconds": round(seconds, 1),
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(pct(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(pct(latencies, 95) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "errors": sum(errors.values()),
        "error_detail": errors,
    }


def measure_throughput(url: str, mix: list[tuple[str, str]], *, duration: int, connections: int, use_wrk: bool) -> dict:
    """`mix` is [(url, username)]; each user gets a session, the pages are requested round-robin."""
    if not mix:
        return {"status": "missing", "error": "no page of the mix answered 200"}
    cookies = {u: session_cookie(u) for u in {u for _, u in mix}}
    targets = [(path, cookies[u]) for path, u in mix]
    wrk = ensure_wrk(install=use_wrk) if use_wrk else None
    with Gunicorn(url) as server:
        # wrk counts a redirect (an expired session sent to the login page) as a success: check first.
        precheck = {}
        for path, cookie in targets:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                precheck[path] = resp.status
        # Warm both workers (imports, connections, template caches) outside the measured window.
        warm = run_python(targets, duration=min(3, duration), connections=2)
        try:
            result = run_wrk(wrk, targets, duration, connections) if wrk else run_python(targets, duration, connections)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            result = run_python(targets, duration, connections)
            result["wrk_error"] = str(exc)[:300]
        memory = server.worker_memory_mb()
    if precheck:
        result["errors"] += len(precheck)
    result.update(
        status="ok",
        pages=len(mix),
        warmup_errors=warm["errors"],
        precheck_not_200=precheck,
        worker_memory=list(memory.values()),
        worker_peak_rss_mb=max((m["peak_mb"] for m in memory.values()), default=None),
    )
    return result
