"""Moving a supplier's chain head on after a one-event capture, against re-hashing the whole chain, in the same run.

Builds one supplier's chain of `--events` events (10,000 by default) through provenance.services.capture_document
and verifies it once (the head, verified through its last event). Then, `--repeat` times: capture one more event,
and time provenance.services.chain_head_advance (what the capture's outbox task runs: the new event alone is
hashed) against provenance.hashchain.chain_verify over the whole chain (what every page view after a capture cost
before chain heads existed: the answer was cached per head, so each new event meant a full re-hash). Best of each.

With DATABASE_URL set it runs on that PostgreSQL server in a throw-away database (socialbiz_bench_chain_head,
created and dropped here); without, on a temporary SQLite file. Prints `BENCH chain_head …` at the end.
Usage: .venv/bin/python bench/chain_head.py [--events 10000] [--per-document 1000] [--repeat 5]
"""

import argparse
import sys
import time
from pathlib import Path

import scratch  # noqa: E402 - bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "socialbiz_bench_chain_head"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def observation(n: int) -> dict:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "eventTime": "2026-04-30T08:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": [f"urn:epc:id:sgtin:9520000.012345.{n}"],
    }


def document(numbers: range) -> dict:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-01T00:00:00+00:00",
        "epcisBody": {"eventList": [observation(n) for n in numbers]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="events in the chain (default 10000)")
    parser.add_argument("--per-document", type=int, default=1000, help="events per captured document (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="one-event captures timed; the best counts (default 5)")
    args = parser.parse_args()

    with scratch.embedded(BENCH_DATABASE) as database:
        run(args, database)


def run(args: argparse.Namespace, database: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from products import services as products
    from provenance import hashchain
    from provenance import services as provenance

    call_command("migrate", verbosity=0)
    supplier = products.supplier_create(legal_name="Bench Cocoa", country="GH")
    for start in range(1, args.events + 1, args.per_document):
        numbers = range(start, min(start + args.per_document, args.events + 1))
        provenance.capture_document(supplier=supplier, submitted_by=None, document=document(numbers))
    if database == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    assert provenance.chain_head_advance(supplier_id=supplier.pk).verified_through == args.events

    advance_s = full_s = float("inf")
    for k in range(args.repeat):
        n = args.events + 1 + k
        provenance.capture_document(supplier=supplier, submitted_by=None, document=document(range(n, n + 1)))
        started = time.perf_counter()
        head = provenance.chain_head_advance(supplier_id=supplier.pk)
        advance_s = min(advance_s, time.perf_counter() - started)
        started = time.perf_counter()
        report = hashchain.chain_verify(supplier_id=supplier.pk)
        full_s = min(full_s, time.perf_counter() - started)
        assert (head.verified_through, head.broken_at, report.ok, report.through) == (n, None, True, n)
    length = args.events + args.repeat
    print(f"{database}: a {length}-event chain, one event captured: head advanced in {advance_s * 1000:.2f} ms, "
          f"whole chain re-hashed in {full_s * 1000:.1f} ms")  # fmt: skip
    print(
        f"BENCH chain_head database={database} events={length} advance_ms={advance_s * 1000:.2f} "
        f"full_rehash_ms={full_s * 1000:.1f} ratio_full_vs_advance={full_s / advance_s:.0f} invariants=ok"
    )


if __name__ == "__main__":
    main()
