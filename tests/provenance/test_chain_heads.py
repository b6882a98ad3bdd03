"""Each supplier's chain head: advanced over the new events alone after a capture, verified from the start every
night (which catches an older event changed in place), and read by pages in one query, without hashing."""

import copy
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from provenance import hashchain, services, tasks
from provenance.hashchain import chain_verify
from provenance.models import ChainHead, TraceEvent
from provenance.selectors import ChainState, chains_status
from tests.conftest import database_is_postgres
from tests.products.factories import SupplierFactory
from tests.provenance.factories import epcis_document, tamper
from tests.provenance.test_epcis_capture import object_event

pytestmark = pytest.mark.django_db


def record(supplier, *numbers: int) -> None:
    """Capture one event per number for `supplier` (its chain's head is left alone: no task runs here)."""
    document = epcis_document(*[object_event(n, epcList=[f"urn:epc:id:sgtin:9520000.012345.{n}"]) for n in numbers])
    services.capture_document(supplier=supplier, submitted_by=None, document=document)


def forge(supplier, index: int) -> TraceEvent:
    """Change the content of a stored event in place, past the append-only trigger; returns the event as it was."""
    event = TraceEvent.objects.get(supplier=supplier, chain_index=index)
    forged = copy.deepcopy(event.document) | {"bizStep": "receiving"}
    tamper("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [json.dumps(forged), event.pk])
    return event


def restore(event: TraceEvent) -> None:
    tamper("UPDATE provenance_traceevent SET document = %s WHERE id = %s", [json.dumps(event.document), event.pk])


@pytest.fixture
def hashed(monkeypatch) -> list[int]:
    """Counts the events hashed from here on (every verification hashes through hashchain.link_hash)."""
    calls: list[int] = []
    link_hash = hashchain.link_hash

    def counted(previous_hash, document):
        calls.append(1)
        return link_hash(previous_hash, document)

    monkeypatch.setattr(hashchain, "link_hash", counted)
    return calls


def head_of(supplier) -> ChainHead:
    return ChainHead.objects.get(supplier=supplier)


def last_hash(supplier) -> str:
    return TraceEvent.objects.filter(supplier=supplier).order_by("-chain_index").values_list("hash", flat=True)[0]


# Advancing after a capture ------------------------------------------------------------------------------------------


def test_a_chain_with_no_head_is_verified_from_its_first_event_once(own_supplier, hashed, django_assert_num_queries):
    record(own_supplier, *range(1, 6))
    assert not ChainHead.objects.exists()
    hashed.clear()

    assert tasks.chain_head_advance(own_supplier.pk) == 5
    head = head_of(own_supplier)
    assert (head.verified_through, head.verified_hash, head.broken_at) == (5, last_hash(own_supplier), None)
    assert len(hashed) == 5

    verified_at = head.verified_at
    # Nothing new: the head is locked and read, the chain after it found empty, and nothing written.
    with django_assert_num_queries(6):  # savepoint, get, lock, the event at the head, the events after it, release
        assert tasks.chain_head_advance(own_supplier.pk) == 5
    assert len(hashed) == 5
    assert head_of(own_supplier).verified_at == verified_at


def test_a_capture_advances_the_head_over_its_new_events_alone(own_supplier, other_supplier, hashed):
    record(own_supplier, *range(1, 1001))
    record(other_supplier, *range(2001, 2011))
    for supplier in (own_supplier, other_supplier):
        services.chain_head_advance(supplier_id=supplier.pk)
    costs = {}
    for supplier, n, length in ((own_supplier, 1001, 1001), (other_supplier, 2011, 11)):
        record(supplier, n)
        hashed.clear()
        with CaptureQueriesContext(connection) as queries:
            head = services.chain_head_advance(supplier_id=supplier.pk)
        costs[supplier.pk] = (len(hashed), len(queries))
        assert (head.verified_through, head.verified_hash) == (length, last_hash(supplier))

    # One event hashed, in as many queries, on a chain of 1,001 events as on one of 11.
    assert costs[own_supplier.pk] == costs[other_supplier.pk]
    assert costs[own_supplier.pk][0] == 1
    assert chain_verify(supplier_id=own_supplier.pk).ok


def test_the_advance_reads_only_the_events_after_the_head(own_supplier, monkeypatch):
    record(own_supplier, *range(1, 51))
    services.chain_head_advance(supplier_id=own_supplier.pk)
    record(own_supplier, 51, 52)
    read: list[int] = []
    verify_rows = hashchain._verify_rows

    def counted(supplier_id, rows, **kwargs):
        def each():
            for row in rows:
                read.append(row[0])
                yield row

        return verify_rows(supplier_id, each(), **kwargs)

    monkeypatch.setattr(hashchain, "_verify_rows", counted)
    services.chain_head_advance(supplier_id=own_supplier.pk)
    assert read == [51, 52]
    assert head_of(own_supplier).verified_through == 52


def test_the_same_task_delivered_twice_leaves_the_head_as_once(own_supplier, hashed):
    record(own_supplier, 1, 2, 3)
    fields = ["verified_through", "verified_hash", "verified_at", "broken_at"]
    first = tasks.chain_head_advance(own_supplier.pk)
    once = list(ChainHead.objects.values_list(*fields))
    second = tasks.chain_head_advance(own_supplier.pk)

    assert first == second == 3
    assert len(hashed) == 3 + 3  # the capture's own hashing, then the first check; the second hashed nothing
    assert list(ChainHead.objects.values_list(*fields)) == once
    assert once[0][:2] == (3, last_hash(own_supplier))


def test_the_last_verified_event_rewritten_is_named_by_the_next_advance(own_supplier):
    record(own_supplier, 1, 2, 3)
    services.chain_head_advance(supplier_id=own_supplier.pk)
    # An intruder rewrites the last event with a hash of its own; the next capture links onto the forged hash.
    third = TraceEvent.objects.get(supplier=own_supplier, chain_index=3)
    forged = copy.deepcopy(third.document) | {"bizStep": "receiving"}
    tamper(
        "UPDATE provenance_traceevent SET document = %s, hash = %s WHERE id = %s",
        [json.dumps(forged), hashchain.link_hash(third.previous_hash, forged), third.pk],
    )
    record(own_supplier, 4)

    head = services.chain_head_advance(supplier_id=own_supplier.pk)

    assert (head.broken_at, head.broken_event_id, head.broken_reason) == (
        3,
        third.event_id,
        "its hash is not the one verified",
    )
    assert head.verified_through == 3  # the checkpoint stays: it is what the chain is checked against


@pytest.mark.postgres
@pytest.mark.skipif(not database_is_postgres(), reason="concurrent captures need PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_and_their_checks_delivered_twice_leave_one_correct_head(own_supplier):
    barrier = threading.Barrier(4)
    failures = []

    def capture_and_check(start: int) -> None:
        try:
            barrier.wait()
            record(own_supplier, *range(start, start + 25))
            for _ in range(2):  # each check delivered twice
                services.chain_head_advance(supplier_id=own_supplier.pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=capture_and_check, args=(start,)) for start in (1, 101, 201, 301)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    head = ChainHead.objects.get()
    assert (head.verified_through, head.verified_hash, head.broken_at) == (100, last_hash(own_supplier), None)
    assert chains_status([own_supplier.pk])[own_supplier.pk].state == ChainState.VERIFIED


# The nightly verification -------------------------------------------------------------------------------------------


def test_an_old_event_changed_is_caught_by_the_nightly_task_and_reported_until_a_whole_verification_passes(
    own_supplier, other_supplier
):
    record(own_supplier, *range(1, 6))
    record(other_supplier, 11)
    services.chain_head_advance(supplier_id=own_supplier.pk)
    second = forge(own_supplier, 2)

    # The check after a capture never re-reads history: it does not see the change.
    record(own_supplier, 6)
    services.chain_head_advance(supplier_id=own_supplier.pk)
    assert chains_status([own_supplier.pk])[own_supplier.pk].state == ChainState.VERIFIED

    assert tasks.chains_verify_all() == [own_supplier.slug]

    head = head_of(own_supplier)
    assert (head.broken_at, head.broken_event_id, head.broken_reason) == (
        2,
        second.event_id,
        "its content no longer matches its hash",
    )
    found_at = head.broken_found_at
    status = chains_status([own_supplier.pk, other_supplier.pk])
    assert (status[own_supplier.pk].state, status[own_supplier.pk].intact) == (ChainState.BROKEN, False)
    assert status[other_supplier.pk].state == ChainState.VERIFIED  # the night's check made its head

    # Neither new captures nor their checks clear it, and the next night finds the same break, found then.
    record(own_supplier, 7)
    services.chain_head_advance(supplier_id=own_supplier.pk)
    tasks.chains_verify_all()
    head = head_of(own_supplier)
    assert (head.broken_at, head.broken_found_at, head.verified_through) == (2, found_at, 6)
    assert chains_status([own_supplier.pk])[own_supplier.pk].state == ChainState.BROKEN

    # Only a whole verification that passes clears it (the event put back as it was recorded, say).
    restore(second)
    assert tasks.chains_verify_all() == []
    head = head_of(own_supplier)
    assert (head.broken_at, head.broken_reason, head.verified_through) == (None, "", 7)
    assert head.verified_hash == last_hash(own_supplier)
    assert head.fully_verified_at is not None
    assert chains_status([own_supplier.pk])[own_supplier.pk].state == ChainState.VERIFIED


def test_a_chain_rewritten_consistently_does_not_pass_against_its_head(own_supplier):
    record(own_supplier, *range(1, 6))
    services.chain_head_advance(supplier_id=own_supplier.pk)
    # An intruder changes event 3 and recomputes every hash from there: the chain is consistent in itself.
    events = list(TraceEvent.objects.filter(supplier=own_supplier, chain_index__gte=3).order_by("chain_index"))
    previous = events[0].previous_hash
    for event in events:
        document = event.document | {"bizStep": "receiving"} if event.chain_index == 3 else event.document
        new_hash = hashchain.link_hash(previous, document)
        tamper(
            "UPDATE provenance_traceevent SET document = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [json.dumps(document), previous, new_hash, event.pk],
        )
        previous = new_hash
    assert chain_verify(supplier_id=own_supplier.pk).ok

    assert tasks.chains_verify_all() == [own_supplier.slug]
    head = head_of(own_supplier)
    assert (head.broken_at, head.broken_reason) == (
        5,
        "its hash is not the one verified: the chain up to it was rewritten",
    )


def test_a_pass_read_before_a_later_break_does_not_clear_it(own_supplier):
    record(own_supplier, 1, 2)
    early = chain_verify(supplier_id=own_supplier.pk)  # the nightly read the chain here…
    services.chain_head_advance(supplier_id=own_supplier.pk)
    record(own_supplier, 3)
    # …while a capture's event was changed before its check ran.
    forge(own_supplier, 3)
    assert services.chain_head_advance(supplier_id=own_supplier.pk).broken_at == 3

    head = services.chain_head_record(report=early)

    assert (head.broken_at, head.verified_through) == (3, 2)


def test_verify_chains_command_records_what_it_finds_on_the_heads(own_supplier, other_supplier, capsys):
    record(own_supplier, 1, 2, 3)
    record(other_supplier, 11)
    forge(own_supplier, 3)

    with pytest.raises(CommandError, match="1 supplier chain"):
        call_command("verify_chains")

    out = capsys.readouterr().out
    assert f"{own_supplier.slug}: BROKEN at event 3 (" in out
    assert f"{other_supplier.slug}: 1 events, chain verifies" in out
    assert head_of(own_supplier).broken_at == 3
    assert head_of(other_supplier).verified_through == 1


# Status, in one query -----------------------------------------------------------------------------------------------


def test_the_status_of_several_suppliers_is_read_in_one_query_without_hashing(
    own_supplier, other_supplier, hashed, django_assert_num_queries
):
    pending, empty = SupplierFactory(slug="pending"), SupplierFactory(slug="empty")
    record(own_supplier, 1, 2)
    record(other_supplier, 11, 12, 13)
    record(pending, 21)
    services.chain_heads_verify_all()
    forge(other_supplier, 2)
    tasks.chains_verify_all()
    record(pending, 22, 23)  # not checked yet: its capture's task has not run
    fresh = SupplierFactory(slug="fresh")
    record(fresh, 31)  # no head at all yet
    hashed.clear()

    with django_assert_num_queries(1):
        status = chains_status([own_supplier.pk, other_supplier.pk, pending.pk, empty.pk, fresh.pk])

    assert hashed == []
    assert {pk: (s.state, s.recorded, s.verified_through, s.unchecked, s.intact) for pk, s in status.items()} == {
        own_supplier.pk: (ChainState.VERIFIED, 2, 2, 0, True),
        other_supplier.pk: (ChainState.BROKEN, 3, 3, 0, False),
        pending.pk: (ChainState.PENDING, 3, 1, 2, True),
        empty.pk: (ChainState.VERIFIED, 0, 0, 0, True),
        fresh.pk: (ChainState.PENDING, 1, 0, 1, True),
    }
    broken = status[other_supplier.pk]
    assert (broken.broken_at, broken.broken_reason) == (2, "its content no longer matches its hash")
    with django_assert_num_queries(0):
        assert chains_status([]) == {}


# The dashboard ------------------------------------------------------------------------------------------------------


def test_members_see_their_own_chains_status_read_only_and_operators_every_one(owner, other_member, operator):
    record(owner.supplier, 1, 2, 3)
    record(other_member.supplier, 11)
    forge(other_member.supplier, 1)
    tasks.chains_verify_all()
    record(owner.supplier, 4)
    url = reverse("admin:provenance_chainhead_changelist")

    mine = owner.client.get(url)
    assert [head.supplier for head in mine.context["cl"].result_list] == [owner.supplier]
    assert "verified so far (1 recorded since, not yet checked)" in mine.content.decode()
    theirs = head_of(other_member.supplier)
    assert owner.client.get(reverse("admin:provenance_chainhead_change", args=[theirs.pk])).status_code == 302

    page = other_member.client.get(reverse("admin:provenance_chainhead_change", args=[theirs.pk]))
    assert page.status_code == 200
    assert "broken at event #1: its content no longer matches its hash" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # read-only
    assert other_member.client.get(reverse("admin:provenance_chainhead_add")).status_code == 403

    every = operator.client.get(url)
    assert {head.supplier for head in every.context["cl"].result_list} == {owner.supplier, other_member.supplier}
