"""EPCIS capture throughput: storing a 10,000-event document, as a ratio against parsing + schema validation alone.

Both are timed in the same run on the same document: `ratio_store_vs_validate` says how much longer a full capture
(parse, validate, deduplicate, hash-chain, bulk insert of events and identifier lines) takes than the validation it
starts with. Uses DATABASE_URL when set (a scratch database `socialbiz_bench_capture` is created and dropped), else a
temporary SQLite file. Prints `BENCH capture …` at the end. Usage: .venv/bin/python bench/capture.py [--events N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import scratch  # noqa: E402 - bench/ is on sys.path when a script runs

SCRATCH_DATABASE = "socialbiz_bench_capture"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_document(count: int) -> dict:
    """A realistic mix: harvest observations, shipments with several EPCs, and transformations with quantities."""
    events = []
    for n in range(count):
        kind = n % 4
        base = {
            "eventID": f"urn:uuid:00000000-0000-4000-9000-{n:012d}",
            "eventTime": f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:00:00+02:00",
            "eventTimeZoneOffset": "+02:00",
            "readPoint": {"id": f"urn:epc:id:sgln:9520000.{n % 90:05d}.0"},
        }
        if kind == 3:
            events.append(
                {
                    **base,
                    "type": "TransformationEvent",
                    "bizStep": "commissioning",
                    "inputQuantityList": [
                        {"epcClass": f"urn:epc:class:lgtin:9520000.012345.L{n - 1}", "quantity": 100, "uom": "KGM"}
                    ],
                    "outputQuantityList": [
                        {"epcClass": f"urn:epc:class:lgtin:9520000.012345.L{n}", "quantity": 90, "uom": "KGM"}
                    ],
                    "ilmd": {"example:moisture": "7.5"},
                }
            )
        else:
            events.append(
                {
                    **base,
                    "type": "ObjectEvent",
                    "action": "OBSERVE" if kind else "ADD",
                    "bizStep": ["commissioning", "shipping", "receiving"][kind],
                    "epcList": [f"urn:epc:id:sgtin:9520000.012345.{n}.{i}" for i in range(3)],
                    "bizLocation": {"id": f"urn:epc:id:sgln:9520000.{n % 90:05d}.0"},
                }
            )
    return {
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"example": "http://ns.example.com/epcis/"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-04-01T00:00:00+00:00",
        "epcisBody": {"eventList": events},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="socialbiz-bench-")
    os.environ.update(DEBUG="true", VAR_DIR=tmp.name, DJANGO_SETTINGS_MODULE="socialbiz.settings")
    Path(tmp.name, "static").mkdir()
    os.environ.pop("REDIS_URL", None)
    server_url = os.environ.get("DATABASE_URL")
    if server_url:
        os.environ["DATABASE_URL"] = scratch.create_database(server_url, SCRATCH_DATABASE)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from provenance import epcis
    from provenance.models import EventLine, TraceEvent
    from provenance.services import capture_document
    from tests.products.factories import SupplierFactory

    call_command("migrate", verbosity=0)
    raw = json.dumps(make_document(args.events)).encode()

    started = time.perf_counter()
    epcis.validate_document(json.loads(raw))
    validate_s = time.perf_counter() - started

    supplier = SupplierFactory()
    started = time.perf_counter()
    capture_document(supplier=supplier, submitted_by=None, document=json.loads(raw))
    store_s = time.perf_counter() - started
    stored, lines = TraceEvent.objects.count(), EventLine.objects.count()
    assert stored == args.events, stored
    vendor = connection.vendor

    connection.close()
    if server_url:
        scratch.drop_database(server_url, SCRATCH_DATABASE)
    tmp.cleanup()
    print(
        f"BENCH capture db={vendor} events={stored} lines={lines} mb={len(raw) / 1e6:.1f} "
        f"validate_s={validate_s:.2f} capture_s={store_s:.2f} events_per_s={stored / store_s:.0f} "
        f"ratio_store_vs_validate={store_s / validate_s:.2f}"
    )


if __name__ == "__main__":
    main()
