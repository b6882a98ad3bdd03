"""Concurrent credit transfers on PostgreSQL, as ratios against pgbench's TPC-B-like transaction on the same server.

Sets up its own data in two throw-away databases on DATABASE_URL's server (else postgres://postgres@127.0.0.1:5432),
created and dropped here: socialbiz_bench_ledger (the project's migrations, `--accounts` member accounts with credit
limits of 0 to 500 credits, an upper limit on one in ten, and top-ups through network_credits.services.top_up for
two in three) and socialbiz_bench_pgbench (`pgbench -i -s --scale`).

Then, for `--seconds` each, in this order so that the machine's noise hits the baseline and the ledger alike:
pgbench (`-c --clients -j 2`, its built-in TPC-B-like transaction), the ledger at low contention (payments among all
the accounts but ten), pgbench again, the ledger at high contention (payments among those ten), pgbench a third time.
A ledger phase is `--clients` processes (threads would share one GIL), each with its own connection, calling
network_credits.services.transfer in a loop with random payers, payees and amounts and a fresh idempotency key each
time; refused payments (not enough credit, over an upper limit) are counted apart and not in the tps. `ratio_low`
and `ratio_high` are the ledger's tps over the mean of the two pgbench runs that bracket it in time (`pgbench_tps`
is the mean of all three).

After the run every invariant is checked with SQL: balances sum to 0 (and holds reserve as much as they reserve for
others); each stored balance and pending amount equals the sum of its entries, and each entry's balance_after the
running sum of its account's entries; no non-system account below its floor or above its upper limit; every transfer
has exactly two entries that sum to 0 and move its amount; idempotency keys unique per initiator; as many payments
stored as the clients counted → `invariants=ok|broken`.

`--design python` measures the Python path of services.transfer (services._move: about eight round trips a
transfer) instead of what services.transfer does on PostgreSQL (one call of the credits_payment function, migration
0004). `--profile N` first times N transfers in this process, one client: their queries, the time spent in this
process (Python, Django, psycopg2) and in each of the database's PL/pgSQL functions (track_functions).
Prints `BENCH ledger …` at the end. Usage: .venv/bin/python bench/ledger.py [--seconds 10] [--clients 8]
"""

import argparse
import contextlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import scratch  # noqa: E402 - bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "socialbiz_bench_ledger"
PGBENCH_DATABASE = "socialbiz_bench_pgbench"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
INITIATOR = "bench"  # system job name of the benchmark's payments: initiator "system:bench"
HOT = 10  # accounts of the high-contention phase


# --- setup --------------------------------------------------------------------------------------------------------


def build_accounts(count: int, rng: random.Random) -> list[int]:
    """`count` member accounts with believable limits, most of them topped up; returns their ids."""
    from django.contrib.auth import get_user_model

    from network_credits.models import Account, ExternalPayment
    from network_credits.services import top_up

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(email=f"member{i}@bench.example.org", first_name=f"Member {i}") for i in range(count)]
    )
    accounts = Account.objects.bulk_create(
        [
            Account(
                kind=Account.Kind.MEMBER,
                user=user,
                name=f"Member {i}",
                credit_limit=rng.choice([0, 5_000, 10_000, 20_000, 50_000]),
                upper_limit=rng.choice([100_000, 200_000]) if i % 10 == 0 else None,
            )
            for i, user in enumerate(users)
        ]
    )
    for i, account in enumerate(accounts):
        if i % 3 != 2:
            amount = rng.choice([2_000, 5_000, 10_000, 20_000])
            top_up(
                account=account,
                amount=amount,
                provider=ExternalPayment.Provider.CARD,
                reference=f"bench-{i}",
                currency="EUR",
                amount_minor=amount,
                key=f"top-up-{i}",
                system=INITIATOR,
            )
    return [account.pk for account in accounts]


def pgbench_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = dict(os.environ, PGHOST=parts.hostname or "127.0.0.1", PGPORT=str(parts.port or 5432))
    env["PGUSER"] = parts.username or "postgres"
    if parts.password:
        env["PGPASSWORD"] = parts.password
    env["PGDATABASE"] = parts.path.lstrip("/")
    return env


def pgbench_init(url: str, scale: int) -> None:
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(scale)], env=pgbench_env(url), check=True, capture_output=True, timeout=300
    )


def pgbench_run(url: str, *, clients: int, seconds: float) -> float:
    """pgbench's TPC-B-like transaction for `seconds`; its tps (without the time to connect)."""
    done = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(max(1, round(seconds)))],
        env=pgbench_env(url),
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    found = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)",
                      done.stdout)  # fmt: skip
    if not found:
        raise RuntimeError(f"pgbench said:\n{done.stdout}\n{done.stderr}")
    return float(found.group(1))


# --- the ledger's clients -----------------------------------------------------------------------------------------


def use_design(design: str) -> None:
    """--design python: payments through services._payment, the path on SQLite, whatever the database (in the
    benchmark's own processes only)."""
    if design == "python":
        from network_credits import services

        services.payment_path = lambda: services._payment


def client(design: str, ids: list[int], start_at: float, seconds: float, seed: int) -> tuple[int, int, int, float]:
    """One client process: pays between random accounts of `ids` from `start_at` for `seconds`.
    Returns (committed, refused, failed, seconds it ran)."""
    from django.db import DatabaseError, connection

    from network_credits.models import Account
    from network_credits.services import LedgerRefusal, transfer

    use_design(design)
    rng = random.Random(seed)
    accounts = list(Account.objects.filter(pk__in=ids))
    connection.ensure_connection()
    committed = refused = failed = 0
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    deadline = began + seconds
    while time.time() < deadline:
        payer, payee = rng.sample(accounts, 2)
        try:
            transfer(payer=payer, payee=payee, amount=rng.randint(100, 3_000), key=uuid.uuid4().hex, system=INITIATOR)
            committed += 1
        except LedgerRefusal:
            refused += 1
        except DatabaseError:
            failed += 1  # retries exhausted: counted, and the invariants will tell whether anything was half-done
    ran = time.time() - began
    connection.close()
    return committed, refused, failed, ran


def ledger_run(design: str, ids: list[int], *, clients: int, seconds: float, rng: random.Random) -> dict[str, float]:
    from django.db import connections

    connections.close_all()  # the forked clients must not share the parent's connection
    start_at = time.time() + 1.0 + 0.2 * clients  # every client connected and ready before the clock starts
    with get_context("fork").Pool(clients) as pool:
        results = pool.starmap(client, [(design, ids, start_at, seconds, rng.randrange(2**32)) for _ in range(clients)])
    committed, refused, failed = (sum(r[i] for r in results) for i in range(3))
    ran = max(r[3] for r in results)
    return {"tps": committed / ran, "committed": committed, "refused": refused, "failed": failed}


# --- profile ------------------------------------------------------------------------------------------------------


def profile(design: str, ids: list[int], count: int, rng: random.Random) -> None:
    """Time `count` transfers in this process, one client; count their queries, and time the database's PL/pgSQL
    functions (the triggers, credits_payment) with track_functions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from network_credits.models import Account
    from network_credits.services import LedgerRefusal, transfer

    use_design(design)
    accounts = list(Account.objects.filter(pk__in=ids))
    system = f"{INITIATOR}_profile"  # not counted with the clients' payments
    pairs = [rng.sample(accounts, 2) for _ in range(count)]
    with CaptureQueriesContext(connection) as captured:
        payer, payee = pairs[0]
        transfer(payer=payer, payee=payee, amount=100, key=uuid.uuid4().hex, system=system)
    print(f"profile: {len(captured.captured_queries)} queries a transfer ({design} path):")
    for query in captured.captured_queries:
        print(f"  {query['sql'][:150]}")
    with connection.cursor() as cursor:
        cursor.execute("SET track_functions = 'pl'")  # a superuser's setting, for this session only
        cursor.execute("SELECT pg_stat_reset()")
    began, cpu = time.perf_counter(), time.process_time()
    for payer, payee in pairs:
        with contextlib.suppress(LedgerRefusal):
            transfer(payer=payer, payee=payee, amount=rng.randint(100, 3_000), key=uuid.uuid4().hex, system=system)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"profile: {count} transfers, one client: {elapsed / count * 1000:.2f} ms each ({count / elapsed:.0f} tps), "
        f"of which {cpu / count * 1000:.2f} ms in this process (Python, Django, psycopg2), the rest waiting for the "
        "server (round trips, its work, the commit's WAL flush)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("RESET track_functions")
        cursor.execute(
            "SELECT funcname, calls, self_time FROM pg_stat_user_functions WHERE calls > 0 ORDER BY self_time DESC"
        )
        for name, calls, self_ms in cursor.fetchall():
            print(f"  {name}: {calls / count:.0f} a transfer, {self_ms / count * 1000:.0f} µs a transfer (self)")


# --- invariants ---------------------------------------------------------------------------------------------------

INVARIANTS = {
    "balances sum to 0": """
        SELECT coalesce(sum(balance), 0) <> 0 OR coalesce(sum(pending_debits), 0) <> coalesce(sum(pending_credits), 0)
        FROM network_credits_account""",
    "stored balances are the sums of their entries": """
        SELECT count(*) FROM network_credits_account a LEFT JOIN (
            SELECT account_id, sum(amount) AS amount,
                   -sum(pending) FILTER (WHERE side = 'debit') AS debits,
                   sum(pending) FILTER (WHERE side = 'credit') AS credits
            FROM network_credits_entry GROUP BY account_id) e ON e.account_id = a.id
        WHERE a.balance <> coalesce(e.amount, 0) OR a.pending_debits <> coalesce(e.debits, 0)
           OR a.pending_credits <> coalesce(e.credits, 0)""",
    "each entry's balance_after is its account's running sum": """
        SELECT count(*) FROM (
            SELECT balance_after, sum(amount) OVER (PARTITION BY account_id ORDER BY id) AS running
            FROM network_credits_entry) e
        WHERE balance_after <> running""",
    "no account below its floor or above its upper limit": """
        SELECT count(*) FROM network_credits_account WHERE kind <> 'system'
            AND (balance - pending_debits < -credit_limit OR balance + pending_credits > upper_limit)""",
    "every transfer has two entries that sum to 0 and move its amount": """
        SELECT count(*) FROM network_credits_transfer t LEFT JOIN (
            SELECT transfer_id, count(*) AS n, sum(amount) AS total, sum(pending) AS pending,
                   sum(amount) FILTER (WHERE side = 'credit') AS paid,
                   bool_and(side = 'debit' OR side = 'credit') AS sides
            FROM network_credits_entry GROUP BY transfer_id) e ON e.transfer_id = t.id
        WHERE e.n IS DISTINCT FROM 2 OR e.total <> 0 OR e.pending <> 0 OR NOT e.sides
           OR (t.kind IN ('payment', 'top_up') AND e.paid <> t.amount)""",
    "idempotency keys unique per initiator": """
        SELECT count(*) FROM (SELECT 1 FROM network_credits_transfer
            GROUP BY initiator, idempotency_key HAVING count(*) > 1) twice""",
}


def invariants_broken(committed: int) -> list[str]:
    from django.db import connection

    broken = []
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql)
            if cursor.fetchone()[0]:
                broken.append(name)
        cursor.execute(
            "SELECT count(*) FROM network_credits_transfer WHERE kind = 'payment' AND initiator = %s",
            [f"system:{INITIATOR}"],
        )
        if cursor.fetchone()[0] != committed:
            broken.append("as many payments stored as the clients counted")
    return broken


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per phase (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, ledger and pgbench (default 8)")
    parser.add_argument("--accounts", type=int, default=1000, help="member accounts (default 1000)")
    parser.add_argument("--scale", type=int, default=10, help="pgbench's scale factor (default 10)")
    parser.add_argument("--design", choices=["service", "python"], default="service", help=__doc__.split("\n")[0])
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="first time N transfers, one client")
    args = parser.parse_args()
    if not shutil.which("pgbench"):
        sys.exit("pgbench is not installed (apt-get install postgresql-contrib, or the server's client package)")
    if args.accounts < 2 * HOT:
        sys.exit(f"--accounts: at least {2 * HOT}")
    server_url = os.environ.get("DATABASE_URL", "") or DEFAULT_SERVER
    if not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The ledger benchmark runs on PostgreSQL: DATABASE_URL is {urlsplit(server_url).scheme!r}")
    os.environ["DATABASE_URL"] = server_url
    pgbench_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{PGBENCH_DATABASE}"))
    import psycopg2

    try:
        scratch.create_database(server_url, PGBENCH_DATABASE)
    except psycopg2.OperationalError as error:
        sys.exit(f"The ledger benchmark needs PostgreSQL ({urlsplit(server_url).netloc}): {error}")
    try:
        with scratch.embedded(BENCH_DATABASE):
            run(args, pgbench_url)
    finally:
        scratch.drop_database(server_url, PGBENCH_DATABASE)


def run(args: argparse.Namespace, pgbench_url: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log (CaptureQueriesContext turns it on where queries are counted)

    rng = random.Random(10)
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    ids = build_accounts(args.accounts, rng)
    pgbench_init(pgbench_url, args.scale)
    print(f"setup: {args.accounts} accounts, pgbench scale {args.scale}, {time.perf_counter() - began:.0f} s")
    hot, cold = ids[:HOT], ids[HOT:]
    if args.profile:
        profile(args.design, cold, args.profile, rng)

    def baseline() -> float:
        tps = pgbench_run(pgbench_url, clients=args.clients, seconds=args.seconds)
        print(f"pgbench: {tps:.0f} tps")
        return tps

    # pgbench before and after each ledger phase: each ratio is against the mean of the two runs that bracket it.
    before_low = baseline()
    low = ledger_run(args.design, cold, clients=args.clients, seconds=args.seconds, rng=rng)
    print(f"ledger, low contention ({len(cold)} accounts): {low}")
    between = baseline()
    high = ledger_run(args.design, hot, clients=args.clients, seconds=args.seconds, rng=rng)
    print(f"ledger, high contention ({len(hot)} accounts): {high}")
    after_high = baseline()
    baseline_low, baseline_high = (before_low + between) / 2, (between + after_high) / 2

    committed = int(low["committed"] + high["committed"])
    broken = invariants_broken(committed)
    for name in broken:
        print(f"invariant broken: {name}")
    pgbench_tps = statistics.mean([before_low, between, after_high])
    print(
        f"BENCH ledger design={args.design} clients={args.clients} seconds={args.seconds:g} "
        f"pgbench_tps={pgbench_tps:.0f} low_tps={low['tps']:.0f} high_tps={high['tps']:.0f} "
        f"ratio_low={low['tps'] / baseline_low:.2f} ratio_high={high['tps'] / baseline_high:.2f} "
        f"low_refused={low['refused']} high_refused={high['refused']} failed={low['failed'] + high['failed']} "
        f"invariants={'broken' if broken else 'ok'}"
    )


if __name__ == "__main__":
    main()
