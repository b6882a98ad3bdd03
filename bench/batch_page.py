"""The public batch page under concurrent load, as ratios against a minimal Django view served the same way.

Sets up its own data (a temporary VAR_DIR; `migrate`, `seed_demo`, `collectstatic`) and picks the demo batch with
the deepest lineage. Then serves the site with gunicorn as in production (`--workers 2`, sync workers, DEBUG off,
static files by whitenoise) on a free loopback port, twice at once: one server with the page cache on
(PAGE_CACHE_SECONDS=600) and one with it off (PAGE_CACHE_SECONDS=0). A load generator on loopback keeps
`--connections` connections busy for `--seconds` per scenario, after `--warmup` seconds of unmeasured requests, in
this order: minimal view (cache-on server), batch page with the cache warm, batch page with the cache off, minimal
view (cache-off server). The baseline is the mean of the two minimal runs, which bracket the page runs in time (this
machine is shared and noisy). The minimal view (bench/batch_page_urls.py) answers "ok" through the project's own
middleware.

Load generator: wrk when it is installed (`apt-get install wrk`), else a Python one (processes of threads, each
with an http.client connection, timing every request). The Python one flatters the ratios: its own CPU time per
request, spent on the same two cores, is a large part of a minimal request's and a small part of a page's (it
serves the minimal view about 40 % slower than wrk does). `--generator` chooses; the output says which ran.

Cache: Redis when REDIS_URL is set (shared by the workers; this run's keys get their own prefix and are deleted at
the end), else Django's local-memory cache, which is per gunicorn worker. Database: a temporary SQLite file, or, with
DATABASE_URL set, a throw-away PostgreSQL database (socialbiz_bench_batch_page, created and dropped here).
Everything runs on 127.0.0.1, is bounded in time, and gunicorn is stopped at the end, even on error.

Mixed scenario (`ratio_mixed`): the busy network of bench/busy_network.py (`--batches`, default 200, with demo-like
chains across several suppliers) is added to the data, and a third gunicorn serves it as production does: the Redis
cache, a Redis broker and a Celery worker beside it (solo pool), which renders changed pages ahead. The load reads the
batch pages with a Zipf-like spread (a few hot, most cold: the page of rank r is read in proportion to 1/r) and makes
one write for every 20 reads. Two writes in three are spread over other suppliers' data — a second busy network of
`--batches`/2 batches and its own six suppliers (bench/busy_network.write: captures, declaration edits and batch
edits) — and the pages read must stay warm, because nothing they show has changed. One in three is an order on the
batches being read, through the purchases services: a shopper's checkout of a unit (cash or credits; popular pages
sell more, in the reads' proportions) or their cancellation of an open order, which gives the stock back; each
changes what the batch's page shows (its available units), so that page is re-rendered ahead by the worker. A
quarter of those shoppers' writes are reviews instead (`mixed_reviews`: new ones, and edits of their own), which
change the pages of every batch of the product. It
reports requests per second against the same minimal view, the share of reads that had to render (X-Cache: miss) or
got a stale copy (X-Cache: stale), the orders placed and cancelled (`mixed_orders`, `mixed_cancelled`) and whether
the stock and the ledger still add up after them (`invariants=ok|broken`). It needs Redis: REDIS_URL, else
redis://127.0.0.1:6379 if it answers (the broker uses database 13 there, or --broker-db, which it empties at the end);
without it the mixed scenario is skipped and says so.

`--profile` also profiles one uncached and one cached request in-process (pyinstrument if installed, else cProfile).
Prints `BENCH batch_page …` at the end. Usage: .venv/bin/python bench/batch_page.py [--seconds 10] [--profile]
"""

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import scratch  # noqa: E402 - bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(BENCH_DIR))  # batch_page_urls, found as gunicorn finds it (--pythonpath bench)

HOST = "127.0.0.1"
BENCH_DATABASE = "socialbiz_bench_batch_page"
CACHE_ON_SECONDS = 600
MINIMAL_PATH = "/__minimal__"  # the minimal view in bench/batch_page_urls.py
TARGET_WARM, TARGET_COLD, TARGET_MIXED = 0.7, 0.06, 0.5
MIXED_WRITE_EVERY = 21  # 20 reads, then one write
MIXED_BROKER_DB = 13
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


# --- the database -------------------------------------------------------------------------------------------------


def postgres_database(url: str) -> str:
    """Create the throw-away database on DATABASE_URL's server and return its URL."""
    return scratch.create_database(url, BENCH_DATABASE)


def postgres_drop(server_url: str) -> None:
    scratch.drop_database(server_url, BENCH_DATABASE)


# --- gunicorn -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def stop_group(process: "subprocess.Popen[bytes] | None", *, grace: float) -> None:
    """Stop a process started in its own session: SIGTERM (a graceful shutdown, workers and all), then after `grace`
    seconds SIGKILL to its process group (the group it leads, no other)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Gunicorn:
    """One gunicorn serving `wsgi()` below on a free loopback port, in its own process group."""

    def __init__(self, name: str, *, env: dict[str, str], workers: int, log_dir: Path) -> None:
        self.name, self.env, self.workers = name, env, workers
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        executable = Path(sys.executable).with_name("gunicorn")
        if not executable.exists():
            raise SystemExit(f"gunicorn is not installed next to {sys.executable}")
        self.port = free_port()
        options = {
            "--workers": str(self.workers),
            "--worker-class": "sync",  # what production runs (the Dockerfile keeps gunicorn's defaults)
            "--bind": f"{HOST}:{self.port}",
            "--chdir": str(ROOT),
            "--pythonpath": str(BENCH_DIR),
            "--graceful-timeout": "3",
            "--log-level": "warning",  # and no access log
        }
        command = [str(executable), *(item for pair in options.items() for item in pair)]
        if (
            "--no-control-socket"
            in subprocess.run([str(executable), "--help"], capture_output=True, text=True, timeout=30).stdout
        ):
            command.append("--no-control-socket")  # gunicorn ≥ 25 opens one in ~/.gunicorn otherwise; two would clash
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [*command, "batch_page:wsgi()"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() can reach the workers if the master hangs
        )

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ({self.name}) exited with {self.process.returncode}:\n{self.log_tail()}")
            with suppress(OSError, http.client.HTTPException):
                status, body = get(self.port, MINIMAL_PATH, timeout=2)
                if status == 200 and body == b"ok":
                    return
                raise SystemExit(f"gunicorn ({self.name}): {MINIMAL_PATH} answered {status}:\n{self.log_tail()}")
            time.sleep(0.2)
        raise SystemExit(f"gunicorn ({self.name}) did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process, grace=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def configure() -> None:
    """Serve bench/batch_page_urls.py (the project's URLs, the minimal view and the mixed scenario's writes).
    Everything else is the project's settings, unchanged (with a shared cache, this run's keys get their own
    CACHE_KEY_PREFIX, so that they never meet another database's pages). Call before the first request."""
    from django.conf import settings

    settings.ROOT_URLCONF = "batch_page_urls"


def wsgi() -> Any:
    """What gunicorn serves (`gunicorn 'batch_page:wsgi()'` with bench/ on the Python path): the project's WSGI
    application, configured as above. This module imports nothing but the standard library at the top."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialbiz.settings")
    configure()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- load generators ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts
    cache: dict[str, int] = field(default_factory=dict)  # X-Cache answers counted (a path list only)


# wrk's script for a list of paths (one per line, WRITE for a write): each thread walks the list from its own place
# and counts the X-Cache answers, which done() prints as one XCACHE line.
WRK_PATHS_SCRIPT = r"""
local threads = {}
local serial = 0
function setup(thread)
  serial = serial + 1
  thread:set("id", serial)
  table.insert(threads, thread)
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = id * 7919
  hit, stale, miss, other = 0, 0, 0, 0
end
function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if path == "WRITE" then path = "/__bench_write__/w" .. id .. "-" .. counter .. "/" end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  local state = headers["X-Cache"]
  if state == "hit" then hit = hit + 1
  elseif state == "stale" then stale = stale + 1
  elseif state == "miss" then miss = miss + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local total = {hit = 0, stale = 0, miss = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + thread:get(name) end
  end
  io.write(string.format("XCACHE hit=%d stale=%d miss=%d other=%d\n", total.hit, total.stale, total.miss, total.other))
end
"""


def wrk_load(
    wrk: str, port: int, path: str, *, connections: int, seconds: float, warmup: float, paths: Path | None = None
) -> Load:
    url = f"http://{HOST}:{port}{path}"
    threads = str(max(1, min(connections, os.cpu_count() or 1)))
    script: Path | None = None
    if paths is not None:
        script = paths.with_suffix(".lua")
        script.write_text(WRK_PATHS_SCRIPT)

    def run(duration: float, latency: bool) -> str:
        command = [wrk, "-t", threads, "-c", str(connections), "-d", f"{max(1, round(duration))}s", "--timeout", "10s"]
        if script is not None:
            command += ["-s", str(script)]
        command += ["--latency", url] if latency else [url]
        if paths is not None:
            command += ["--", str(paths)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
        if done.returncode:
            raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        return done.stdout

    if warmup > 0:
        run(warmup, latency=False)
    out = run(seconds, latency=True)
    percentiles = {
        float(p): float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[unit]
        for p, value, unit in re.findall(r"^\s+([\d.]+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", out, re.MULTILINE)
    if not (rps and total and 50.0 in percentiles and 99.0 in percentiles):
        raise SystemExit(f"could not read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    if socket_errors := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(n) for n in socket_errors.groups())
    counted = re.search(r"^XCACHE (.*)$", out, re.MULTILINE)
    cache = {name: int(n) for name, n in re.findall(r"(\w+)=(\d+)", counted.group(1))} if counted else {}
    return Load(float(rps.group(1)), percentiles[50.0], percentiles[99.0], int(total.group(1)), errors, cache)


def _client_process(
    port: int, paths: list[str], threads: int, start_at: float, end_at: float
) -> tuple[list[float], int, dict[str, int]]:
    """In a child process: `threads` connections requesting `paths` in turn (each thread from its own place; WRITE
    is a write) until `end_at` (wall clock); returns the latencies (seconds) of the requests that completed in
    [start_at, end_at], the errors and the X-Cache answers in that window.

    gunicorn's sync workers close the connection after each response; http.client then reconnects by itself, as
    wrk does. Time spent waiting for this process's GIL counts as latency, one reason the fallback is rougher."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    counted: list[dict[str, int]] = [{} for _ in range(threads)]

    def loop(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        mine, states = latencies[index], counted[index]
        step = (os.getpid() * 31 + index) * 7919
        while time.time() < end_at:
            step += 1
            path = paths[step % len(paths)]
            if path == "WRITE":
                path = f"/__bench_write__/p{os.getpid()}-{index}-{step}/"
            started = time.perf_counter()
            state = "other"
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = 200 <= response.status < 300
                state = response.getheader("X-Cache") or "other"
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            elapsed = time.perf_counter() - started
            if start_at <= time.time() <= end_at:
                if ok:
                    mine.append(elapsed)
                    states[state] = states.get(state, 0) + 1
                else:
                    errors[index] += 1
        connection.close()

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=max(0.0, end_at - time.time()) + 30)
    total: dict[str, int] = {}
    for states in counted:
        for state, n in states.items():
            total[state] = total.get(state, 0) + n
    return [x for mine in latencies for x in mine], sum(errors), total


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty sequence."""
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def python_load(
    pool: ProcessPoolExecutor,
    processes: int,
    port: int,
    path: str,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    paths: Path | None = None,
) -> Load:
    split = [connections // processes + (i < connections % processes) for i in range(processes)]
    start_at = time.time() + 0.5 + warmup  # the processes are already up (see run): half a second to start threads
    end_at = start_at + seconds
    targets = paths.read_text().split() if paths is not None else [path]
    futures = [pool.submit(_client_process, port, targets, n, start_at, end_at) for n in split if n]
    latencies: list[float] = []
    errors = 0
    cache: dict[str, int] = {}
    for future in futures:
        mine, failed, states = future.result(timeout=end_at - time.time() + 60)
        latencies += mine
        errors += failed
        for state, n in states.items():
            cache[state] = cache.get(state, 0) + n
    if not latencies:
        raise SystemExit(f"no request to {path} succeeded ({errors} errors)")
    latencies.sort()
    p50, p99 = percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3
    return Load(len(latencies) / seconds, p50, p99, len(latencies), errors, cache if paths is not None else {})


def _noop() -> None:
    return None


# --- the run ------------------------------------------------------------------------------------------------------


@contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so that the `finally` blocks stop gunicorn and drop the database."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured load before each scenario (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, for 2 cores)")
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk if installed (auto, the default), or the Python one",
    )
    parser.add_argument(
        "--page",
        choices=["batch", "product"],
        default="batch",
        help="the page under load: the batch page (default), or its product's page",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one uncached and one cached request in-process (pyinstrument, else cProfile)",
    )
    parser.add_argument("--batches", type=int, default=200, help="batches of the mixed scenario (default 200)")
    parser.add_argument("--no-mixed", action="store_true", help="leave the mixed scenario out")
    parser.add_argument(
        "--broker-db",
        type=int,
        default=MIXED_BROKER_DB,
        help=f"the Redis database of the mixed scenario's broker, emptied at the end (default {MIXED_BROKER_DB})",
    )
    args = parser.parse_args()

    wrk = shutil.which("wrk") if args.generator != "python" else None
    if args.generator == "wrk" and not wrk:
        sys.exit("--generator wrk: wrk is not installed (apt-get install wrk)")
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url and not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"DATABASE_URL must be a PostgreSQL URL (or unset, for SQLite), not {urlsplit(server_url).scheme!r}")
    redis_url = os.environ.get("REDIS_URL", "")
    cache_prefix = f"socialbiz-bench-batch-page-{os.getpid()}-{secrets.token_hex(4)}"
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
        except redis.RedisError as error:  # the site would treat every cache call as a 1-second miss
            sys.exit(f"REDIS_URL is set but Redis does not answer: {error}")
    mixed_redis = "" if args.no_mixed else redis_url or (DEFAULT_REDIS if redis_answers(DEFAULT_REDIS) else "")

    tmp = tempfile.TemporaryDirectory(prefix="socialbiz-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="socialbiz.settings",
        VAR_DIR=tmp.name,
        STATIC_ROOT=str(Path(tmp.name, "static")),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),  # throw-away
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback
        CELERY_BROKER_URL="",  # tasks run in-process: nothing goes to a shared broker
        LOG_LEVEL="WARNING",
        PAGE_CACHE_SECONDS="0",  # this process measures the uncached page; the servers get their own value
    )
    for name in ("REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        os.environ.pop(name, None)  # this process caches in local memory; gunicorn gets REDIS_URL back below
    if server_url:
        os.environ["DATABASE_URL"] = postgres_database(server_url)
    servers: list[Gunicorn] = []
    try:
        with stopped_on_sigterm():
            run(
                args,
                wrk=wrk,
                servers=servers,
                tmp=Path(tmp.name),
                redis_url=redis_url,
                mixed_redis=mixed_redis,
                cache_prefix=cache_prefix,
                database="postgresql" if server_url else "sqlite",
            )
    finally:
        for server in servers:
            server.stop()
        for url in {redis_url, mixed_redis} - {""}:
            import redis

            with suppress(redis.RedisError):
                client = redis.Redis.from_url(url, socket_connect_timeout=2)
                for key in client.scan_iter(match=f"{cache_prefix}*", count=1000):
                    client.delete(key)
        if mixed_redis:
            with suppress(redis.RedisError):  # the broker's database is this benchmark's own
                redis.Redis.from_url(broker_url(mixed_redis, args.broker_db), socket_connect_timeout=2).flushdb()
        if server_url:
            from django.db import connections

            connections.close_all()
            postgres_drop(server_url)
        tmp.cleanup()


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def broker_url(redis_url: str, db: int) -> str:
    """The mixed scenario's broker: database `db` (--broker-db) of the same Redis, which this benchmark empties."""
    where = urlsplit(redis_url)
    return f"{where.scheme}://{where.netloc}/{db}"


class Worker:
    """A Celery worker (solo pool, as on a small server) in its own process group, for the mixed scenario."""

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_path = env, log_dir / "celery-worker.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        executable = Path(sys.executable).with_name("celery")
        command = [str(executable), "-A", "socialbiz", "worker", "--pool=solo", "--without-gossip", "--without-mingle"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
            [*command, "--loglevel=warning"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process, grace=15)
        if self._log is not None:
            self._log.close()
            self._log = None


def mixed_paths(batch_ids: list[int], tmp: Path, *, requests: int = 42_000) -> Path:
    """The mixed scenario's requests, one per line: reads of batch pages with a Zipf-like spread (rank r read in
    proportion to 1/r, ranks shuffled over the batches), and WRITE after every 20 reads."""
    import random

    import busy_network
    from django.urls import reverse

    ranked = busy_network.reading_order(batch_ids)  # the writes' orders follow the same popularity
    weights = busy_network.zipf_weights(len(ranked))
    rng = random.Random(busy_network.READING_SEED)
    reads = rng.choices([reverse("storefront:batch", args=[pk]) for pk in ranked], weights=weights, k=requests)
    lines = []
    for n, path in enumerate(reads, start=1):
        lines.append(path)
        if n % (MIXED_WRITE_EVERY - 1) == 0:
            lines.append("WRITE")
    target = tmp / "mixed-paths.txt"
    target.write_text("\n".join(lines) + "\n")
    return target


def deepest_batch() -> tuple[Any, int, int]:
    """The published demo batch with the longest lineage upstream (then the most events): (batch, upstream, hops)."""
    from products.models import Batch, Product
    from provenance.lineage import batch_lineage

    best, key = None, (-1, -1)
    for batch in Batch.objects.select_related("product__supplier").filter(product__in=Product.objects.public()):
        lineage = batch_lineage(batch)
        if (candidate := (len(lineage.upstream), len(lineage.hops))) > key:
            best, key = batch, candidate
    if best is None:
        raise SystemExit("seed_demo made no published batch")
    return best, *key


def measure_in_process(path: str, *, profile: bool) -> tuple[int, int, int]:
    """Queries per request with the page cache off (PAGE_CACHE_SECONDS=0 here) and on (overridden), and the HTML's
    size, in this process with the test client; optionally profiles of one uncached and one cached request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST=HOST)
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code} in-process")
    # Counted at once: every request starts by emptying the connection's query log (Django's request_started).
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    cold = len(captured)
    if profile:
        profile_request(client, path, "an uncached (cold)")
    with override_settings(PAGE_CACHE_SECONDS=CACHE_ON_SECONDS):
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        warm = len(captured)
        if profile:
            profile_request(client, path, "a cached (warm)")
    return cold, warm, len(response.content)


def profile_request(client: Any, path: str, which: str) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, path)
        print(f"\ncProfile of {which} request to {path} (top 30 by cumulative time):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    else:
        with Profiler(interval=0.0005) as profiler:
            client.get(path)
        print(f"\npyinstrument profile of {which} request to {path}:")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def run(
    args: argparse.Namespace,
    *,
    wrk: str | None,
    servers: list[Gunicorn],
    tmp: Path,
    redis_url: str,
    mixed_redis: str,
    cache_prefix: str,
    database: str,
) -> None:
    import django

    configure()  # the same URLconf as the servers, for the in-process checks
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.urls import NoReverseMatch, reverse

    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("seed_demo", verbosity=0, stdout=quiet)
        call_command("collectstatic", "--noinput", verbosity=0, stdout=quiet)
    busy: list[int] = []
    if mixed_redis:
        import busy_network

        busy = busy_network.build(args.batches, name="busy").ids
        busy_network.shop_open("busy")  # its batches are bought while their pages are read
        busy_network.build(args.batches // 2, name="writers", gln_base=1500)
    batch, upstream, hops = deepest_batch()
    if args.page == "batch":
        try:
            path = reverse("storefront:batch", args=[batch.pk])
        except NoReverseMatch:
            sys.exit("there is no batch page (storefront:batch) yet; --page product benchmarks its product's page")
    else:
        path = batch.product.get_absolute_url()
    queries_cold, queries_warm, html_bytes = measure_in_process(path, profile=args.profile)
    connections.close_all()  # before gunicorn opens its own
    print(
        f"data: {database}, demo batch {batch.product.name} / {batch.lot} (id {batch.pk}): {upstream} identifiers "
        f"upstream, {hops} events; set up in {time.perf_counter() - started:.0f} s"
    )
    print(
        f"page: {path} ({args.page} page), {html_bytes / 1024:.1f} KB of HTML; in-process {queries_cold} queries "
        f"with the page cache off, {queries_warm} with it on"
    )
    if queries_cold == 0:
        print("WARNING: PAGE_CACHE_SECONDS=0 does not turn the page cache off (0 queries per uncached request)")
    elif queries_warm >= queries_cold:
        print(
            "note: the page cache made no difference in-process (the page is not cached, or the view reads "
            "PAGE_CACHE_SECONDS when it is imported, which override_settings cannot change)"
        )

    cache = "redis" if redis_url else "locmem"
    if redis_url:
        where = urlsplit(redis_url)
        print(
            f"cache: Redis at {where.hostname}:{where.port or 6379} (shared by the workers; this run's keys have "
            "their own prefix and are deleted at the end)"
        )
    else:
        print(f"cache: Django's local memory, per gunicorn worker (each of the {args.workers} warms its own copy)")

    base_env = dict(os.environ)
    if redis_url:
        base_env.update(REDIS_URL=redis_url, CACHE_KEY_PREFIX=cache_prefix)
    # cache-on: pages cached; cache-off: pages rendered every time, their trace sections cached (a page made stale
    # by a change to its product); uncached: nothing cached at all (a page never seen, or its chain just changed).
    for name, page_seconds, part_seconds in (
        ("cache-on", CACHE_ON_SECONDS, 3600),
        ("cache-off", 0, 3600),
        ("uncached", 0, 0),
    ):
        env = {**base_env, "PAGE_CACHE_SECONDS": str(page_seconds), "PAGE_PART_CACHE_SECONDS": str(part_seconds)}
        servers.append(Gunicorn(name, env=env, workers=args.workers, log_dir=tmp))
    worker: Worker | None = None
    if mixed_redis:
        env = {
            **base_env,
            "REDIS_URL": mixed_redis,
            "CELERY_BROKER_URL": broker_url(mixed_redis, args.broker_db),
            "CACHE_KEY_PREFIX": f"{cache_prefix}-mixed",
            "PAGE_CACHE_SECONDS": str(CACHE_ON_SECONDS),
            # The shoppers' reviews are a load, not an abuse: 8 shoppers write hundreds in a run.
            "REVIEWS_LIMIT_REVIEWS_USER": "100000/hour",
        }
        servers.append(Gunicorn("mixed", env=env, workers=args.workers, log_dir=tmp))
        worker = Worker(env=env, log_dir=tmp)
        worker.start()
        where = urlsplit(mixed_redis)
        print(
            f"mixed: {len(busy)} more batches on a busy network, Redis cache and broker at {where.hostname}:"
            f"{where.port or 6379} (broker database {args.broker_db}), a Celery worker beside gunicorn"
        )
    else:
        print(
            "mixed: skipped (it needs Redis: set REDIS_URL, or run one on 127.0.0.1:6379)" if not args.no_mixed else ""
        )
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready()
    warm_server, cold_server, uncached_server = servers[:3]
    for server in servers:
        status, body = get(server.port, path)
        if status != 200 or b"<html" not in body.lower():
            raise SystemExit(f"gunicorn ({server.name}): {path} answered {status}:\n{server.log_tail()}")
    paths = mixed_paths(busy, tmp) if mixed_redis else None
    if paths is not None:
        # A network that has been running: every page has been asked for once (the load then keeps them warm, or not).
        from django.urls import reverse as url_for

        for pk in busy:
            get(servers[3].port, url_for("storefront:batch", args=[pk]), timeout=30)

    pool, processes = None, 0
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
        first_line = (version.stdout or version.stderr).strip().splitlines()[:1]
        generator = "wrk"
        print(f"load generator: wrk ({first_line[0] if first_line else wrk})")
    else:
        generator = "python"
        processes = max(1, min(args.connections, os.cpu_count() or 1))
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"))
        for future in [pool.submit(_noop) for _ in range(processes)]:
            future.result(timeout=60)  # start the processes now, outside the measured windows
        print(
            f"load generator: python ({processes} processes of threads with http.client connections"
            + ("" if args.generator == "python" else "; wrk is not installed — apt-get install wrk")
            + ")"
        )
    print(
        f"{args.connections} connections, {args.warmup:g} s warm-up + {args.seconds:g} s per scenario, "
        f"gunicorn --workers {args.workers} (sync) on {HOST}"
    )

    def load(server: Gunicorn, target: str, paths: Path | None = None) -> Load:
        sizes = {"connections": args.connections, "seconds": args.seconds, "warmup": args.warmup, "paths": paths}
        if wrk:
            return wrk_load(wrk, server.port, target, **sizes)
        assert pool is not None
        return python_load(pool, processes, server.port, target, **sizes)

    scenarios = [
        ("minimal", warm_server, MINIMAL_PATH, None),
        ("warm", warm_server, path, None),
        ("cold", cold_server, path, None),
        ("uncached", uncached_server, path, None),
    ]
    if paths is not None:
        scenarios.append(("mixed", servers[3], "/", paths))
    scenarios.append(("minimal again", cold_server, MINIMAL_PATH, None))
    results: dict[str, Load] = {}
    try:
        for name, server, target, targets in scenarios:
            results[name] = result = load(server, target, targets)
            print(
                f"{name:14} {result.rps:8.0f} requests/s  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                f"({result.requests} requests, {result.errors} errors)"
                + (f"  X-Cache {result.cache}" if result.cache else "")
            )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if worker is not None:
            worker.stop()
    for server in servers:
        server.stop()
    if errors := sum(result.errors for result in results.values()):
        print(f"WARNING: {errors} requests failed; see the numbers above")

    minimal = statistics.mean([results["minimal"].rps, results["minimal again"].rps])
    drift = abs(results["minimal"].rps - results["minimal again"].rps) / minimal
    if drift > 0.2:
        print(f"note: the baseline moved by {drift * 100:.0f} % between its two runs (a busy machine); run it again")
    warm, cold, uncached = results["warm"], results["cold"], results["uncached"]
    ratio_warm, ratio_cold, ratio_uncached = warm.rps / minimal, cold.rps / minimal, uncached.rps / minimal
    goals = [("warm", ratio_warm, TARGET_WARM), ("cold", ratio_cold, TARGET_COLD), ("uncached", ratio_uncached, None)]
    mixed_fields = "ratio_mixed=n/a"
    if "mixed" in results:
        mixed = results["mixed"]
        ratio_mixed = mixed.rps / minimal
        reads = sum(n for state, n in mixed.cache.items() if state in ("hit", "stale", "miss")) or 1
        writes = mixed.cache.get("other", 0)
        goals.append(("mixed", ratio_mixed, TARGET_MIXED))
        mixed_fields = (
            f"rps_mixed={mixed.rps:.0f} ratio_mixed={ratio_mixed:.3f} "
            f"mixed_rendered={mixed.cache.get('miss', 0) / reads:.3f} "
            f"mixed_stale={mixed.cache.get('stale', 0) / reads:.3f} "
            f"mixed_writes={writes} mixed_batches={len(busy)} "
            f"p50_mixed_ms={mixed.p50_ms:.1f} p99_mixed_ms={mixed.p99_ms:.1f}"
        )
        placed, cancelled, invariants = busy_network.orders_made("busy")
        reviewed = busy_network.reviews_made("busy")
        mixed_fields += (
            f" mixed_orders={placed} mixed_cancelled={cancelled} mixed_reviews={reviewed} invariants={invariants}"
        )
        print(
            f"mixed: {reads} reads ({mixed.cache.get('miss', 0) / reads * 100:.1f} % rendered, "
            f"{mixed.cache.get('stale', 0) / reads * 100:.1f} % stale copies) and {writes} writes, "
            f"{placed} of them checkouts, {cancelled} cancellations, the rest captures, edits and reviews "
            f"({reviewed} reviews written; stock and ledger: {invariants})"
        )
    for label, ratio, goal in goals:
        verdict = "" if goal is None else ": met" if ratio >= goal else f": MISSED by {(1 - ratio / goal) * 100:.0f} %"
        print(f"ratio_{label} {ratio:.3f}" + (f" (target ≥ {goal}){verdict}" if goal is not None else ""))
    print(
        "BENCH batch_page "
        f"generator={generator} rps_minimal={minimal:.0f} rps_warm={warm.rps:.0f} rps_cold={cold.rps:.0f} "
        f"rps_uncached={uncached.rps:.0f} ratio_warm={ratio_warm:.3f} ratio_cold={ratio_cold:.3f} "
        f"ratio_uncached={ratio_uncached:.3f} {mixed_fields} "
        f"p50_warm_ms={warm.p50_ms:.1f} p99_warm_ms={warm.p99_ms:.1f} "
        f"p50_cold_ms={cold.p50_ms:.1f} p99_cold_ms={cold.p99_ms:.1f} "
        f"page={args.page} db={database} cache={cache} queries_cold={queries_cold} queries_warm={queries_warm}"
    )


if __name__ == "__main__":
    main()
