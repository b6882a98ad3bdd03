"""Lineage of a batch at the end of a 10,000-event chain, as a ratio against a plain COUNT(*) in the same run.

Builds its own chain: `--depth` transformations (lot i → lot i+1, 5,000 by default), each lot also observed once,
captured through provenance.services.capture_document in EPCIS documents of `--per-document` events; the last lot is
the batch of a product. Then walks the batch's lineage (provenance.lineage.batch_lineage: up, down, events, lines,
facilities, evidence) and times it against `SELECT COUNT(*)` over EventLine, best of `--repeat` each; `cte_ms` is
the part spent in the two recursive queries alone, the rest is loading 10,000 events into Python.

With DATABASE_URL set it runs on that PostgreSQL server in a throw-away database (socialbiz_bench_lineage, created
and dropped here); without, on a temporary SQLite file. Prints `BENCH lineage …` at the end.
Usage: .venv/bin/python bench/lineage.py [--depth 5000] [--per-document 1000] [--repeat 3]
"""

import argparse
import datetime
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch  # noqa: E402 - bench/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "socialbiz_bench_lineage"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def with_check_digit(body: str) -> str:
    from stdnum import ean

    return body + ean.calc_check_digit(body)


RAW_GTIN = with_check_digit("0961000000001")  # what the chain's lots are lots of
PRODUCT_GTIN = with_check_digit("0961000000002")  # the product whose batch ends the chain
PLANT_GLN, STORE_GLN = with_check_digit("961000000001"), with_check_digit("961000000002")


def chain_documents(*, depth: int, per_document: int, final: str, plant: str, store: str) -> list[dict]:
    """The chain as EPCIS documents: lot i is made into lot i+1 at the plant, then seen at the store."""
    lots = [f"https://id.gs1.org/01/{RAW_GTIN}/10/L{i}" for i in range(depth)] + [final]
    urn_class = f"urn:epc:class:lgtin:{RAW_GTIN[1:8]}.{RAW_GTIN[0]}{RAW_GTIN[8:13]}"
    events = []
    for i in range(depth):
        # Every other input as an EPC class URN: the walk relies on identifiers stored in one canonical form.
        source = f"{urn_class}.L{i}" if i % 2 else lots[i]
        made, seen = START + datetime.timedelta(minutes=2 * i), START + datetime.timedelta(minutes=2 * i + 1)
        events.append(
            {
                "type": "TransformationEvent",
                "eventID": f"urn:uuid:00000000-0000-4000-8000-{2 * i:012d}",
                "eventTime": made.isoformat(),
                "eventTimeZoneOffset": "+00:00",
                "bizStep": "commissioning",
                "bizLocation": {"id": plant},
                "inputQuantityList": [{"epcClass": source, "quantity": 1000, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": lots[i + 1], "quantity": 990, "uom": "KGM"}],
            }
        )
        events.append(
            {
                "type": "ObjectEvent",
                "eventID": f"urn:uuid:00000000-0000-4000-8000-{2 * i + 1:012d}",
                "eventTime": seen.isoformat(),
                "eventTimeZoneOffset": "+00:00",
                "action": "OBSERVE",
                "bizStep": "storing",
                "readPoint": {"id": store},
                "quantityList": [{"epcClass": lots[i + 1], "quantity": 990, "uom": "KGM"}],
            }
        )
    return [
        {
            "@context": [EPCIS_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-05-01T00:00:00+00:00",
            "epcisBody": {"eventList": events[start : start + per_document]},
        }
        for start in range(0, len(events), per_document)
    ]


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=5000, help="transformations in the chain (default 5000)")
    parser.add_argument("--per-document", type=int, default=1000, help="events per captured document (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query; the best counts (default 3)")
    args = parser.parse_args()

    with scratch.embedded(BENCH_DATABASE) as database:
        run(args, database)


def run(args: argparse.Namespace, database: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.gs1 import gtin_uri
    from products import services as products
    from products.models import Batch
    from provenance import services as provenance
    from provenance.lineage import DOWNSTREAM, UPSTREAM, batch_identifier, batch_lineage, walk
    from provenance.models import EventLine, Evidence, TraceEvent

    call_command("migrate", verbosity=0)
    supplier = products.supplier_create(legal_name="Bench Cocoa", country="GH")
    product = products.product_create(supplier=supplier, name="Bench bar", category="food", gtin=PRODUCT_GTIN)
    batch = products.batch_create(product=product, lot="FINAL", produced_on="2026-06-01", quantity=1)
    plant = provenance.facility_create(owner=supplier, name="Plant", country="GH", gln=PLANT_GLN)
    provenance.facility_create(owner=supplier, name="Store", country="BE", gln=STORE_GLN)

    started = time.perf_counter()
    documents = chain_documents(
        depth=args.depth,
        per_document=args.per_document,
        final=gtin_uri(product.gtin, batch.lot),
        plant=plant.location_uri,
        store=f"urn:epc:id:sgln:{STORE_GLN[:7]}.{STORE_GLN[7:12]}.7",  # the store's GLN with an extension: a shelf
    )
    for document in documents:
        provenance.capture_document(supplier=supplier, submitted_by=None, document=document)
    capture_s = time.perf_counter() - started
    events = TraceEvent.objects.count()
    lines = EventLine.objects.count()
    proof = provenance.evidence_create(owner=supplier, title="Audit", issuer="Bench", url="https://audit.example")
    through = Evidence.events.through
    through.objects.bulk_create(
        [through(evidence=proof, traceevent_id=pk) for pk in TraceEvent.objects.values_list("pk", flat=True)[::10]]
    )
    if database == "postgresql":
        # What autovacuum does a minute after a bulk load. Without statistics PostgreSQL takes the fresh tables for
        # tiny and plans the recursive step as a scan per step: the walk then takes seconds, not milliseconds.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"captured {events} events ({lines} lines) in {len(documents)} documents: {events / capture_s:.0f} events/s")

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {EventLine._meta.db_table}")
            return cursor.fetchone()[0]

    batch = Batch.objects.select_related("product").get(pk=batch.pk)
    with CaptureQueriesContext(connection) as queries:
        lineage = batch_lineage(batch)
    walk_s, lineage = best_of(args.repeat, lambda: batch_lineage(batch))
    root = batch_identifier(batch)
    cte_s, _ = best_of(args.repeat, lambda: (walk(root, UPSTREAM), walk(root, DOWNSTREAM)))
    count_s, counted = best_of(max(args.repeat, 5), count)
    assert counted == lines
    assert len(lineage.upstream) == args.depth, len(lineage.upstream)
    assert lineage.origins == {f"https://id.gs1.org/01/{RAW_GTIN}/10/L0"}, lineage.origins
    assert len(lineage.hops) == events
    assert all(hop.facility for hop in lineage.hops)
    print(
        f"lineage of a {args.depth}-deep chain: {len(queries)} queries, {walk_s * 1000:.1f} ms, of which "
        f"{cte_s * 1000:.1f} ms in the two recursive CTEs (COUNT(*) over {lines} lines: {count_s * 1000:.2f} ms) "
        f"on {database}"
    )
    print(
        "BENCH lineage "
        f"database={database} depth={args.depth} events={events} lines={lines} queries={len(queries)} "
        f"walk_ms={walk_s * 1000:.1f} cte_ms={cte_s * 1000:.1f} count_ms={count_s * 1000:.2f} "
        f"ratio_walk_vs_count={walk_s / count_s:.1f} "
        f"capture_events_per_s={events / capture_s:.0f}"
    )


if __name__ == "__main__":
    main()
