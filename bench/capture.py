"""EPCIS capture throughput: storing a 10,000-event document, as a ratio against validating it in pure Python.

Timed in the same run on the same document:
- `python_validation_s`: GS1's schema checked the way capture used to check it, jsonschema's Draft7Validator with a
  FormatChecker (pure Python), and nothing else;
- `validate_s`: provenance.epcis.validate_document as capture runs it now (schema, then the rules GS1's schema does
  not state and the identifiers' GS1 forms);
- `capture_s`: a whole capture (validate, deduplicate, hash-chain, bulk insert of events and identifier lines).
`ratio_vs_python_validation` = python_validation_s / capture_s: above 1, a whole capture takes less time than the
pure-Python schema check alone did. `ratio_store_vs_validate` = capture_s / validate_s.

Uses DATABASE_URL when set (a scratch database `socialbiz_bench_capture` is created and dropped), else a temporary
SQLite file. Prints `BENCH capture …` at the end; `--profile N` prints the capture's N costliest functions first.
Usage: .venv/bin/python bench/capture.py [--events N] [--profile N]
"""

import argparse
import cProfile
import json
import pstats
import sys
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
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the capture's N costliest calls")
    args = parser.parse_args()

    with scratch.embedded(SCRATCH_DATABASE):
        run(args)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from jsonschema import Draft7Validator, FormatChecker

    from provenance import epcis
    from provenance.models import EventLine, TraceEvent
    from provenance.services import capture_document
    from tests.products.factories import SupplierFactory

    call_command("migrate", verbosity=0)
    raw = json.dumps(make_document(args.events)).encode()

    # The old way, as a baseline: every error of the document, in pure Python.
    python_validator = Draft7Validator(epcis.schema(), format_checker=FormatChecker())
    started = time.perf_counter()
    errors = list(python_validator.iter_errors(json.loads(raw)))
    python_s = time.perf_counter() - started
    assert not errors, errors[:3]

    started = time.perf_counter()
    epcis.validate_document(json.loads(raw))
    validate_s = time.perf_counter() - started

    supplier = SupplierFactory()
    document = json.loads(raw)
    profile = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    capture_document(supplier=supplier, submitted_by=None, document=document)
    if profile:
        profile.disable()
    store_s = time.perf_counter() - started
    if profile:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(args.profile)
    stored, lines = TraceEvent.objects.count(), EventLine.objects.count()
    assert stored == args.events, stored
    vendor = connection.vendor
    print(
        f"BENCH capture db={vendor} events={stored} lines={lines} mb={len(raw) / 1e6:.1f} "
        f"python_validation_s={python_s:.2f} validate_s={validate_s:.2f} capture_s={store_s:.2f} "
        f"events_per_s={stored / store_s:.0f} ratio_vs_python_validation={python_s / store_s:.2f} "
        f"ratio_store_vs_validate={store_s / validate_s:.2f}"
    )


if __name__ == "__main__":
    main()
