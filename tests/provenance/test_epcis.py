"""provenance.epcis: the one builder of EPCIS documents, time-zone offsets as EPCIS writes them, units of measure."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance import epcis, simple_events

EVENT = {
    "type": "ObjectEvent",
    "eventTime": "2026-05-01T08:00:00+02:00",
    "eventTimeZoneOffset": "+02:00",
    "action": "OBSERVE",
    "epcList": ["urn:epc:id:sgtin:9521000.010001.1"],
}
EXTENSION = {"ex": "https://example.org/ns/"}


def test_a_document_names_gs1s_context_first_and_each_other_entry_once():
    document = epcis.epcis_document([EVENT], context=[EXTENSION, epcis.CONTEXT_URL, dict(EXTENSION)])

    assert document["@context"] == [epcis.CONTEXT_URL, EXTENSION]
    assert document["type"] == "EPCISDocument"
    assert document["epcisBody"] == {"eventList": [EVENT]}
    assert epcis.validate_document(document) == [EVENT]


def test_a_query_document_answers_its_query_and_validates():
    created = datetime.datetime(2026, 5, 1, 10, tzinfo=datetime.UTC)

    document = epcis.epcis_document([EVENT], query_name="SimpleEventQuery", created=created)

    assert document["type"] == "EPCISQueryDocument"
    assert document["creationDate"] == "2026-05-01T10:00:00+00:00"
    assert document["epcisBody"]["queryResults"] == {
        "queryName": "SimpleEventQuery",
        "resultsBody": {"eventList": [EVENT]},
    }
    epcis.validate_document(document, kind="EPCISQueryDocument")  # raises InvalidDocument if it is not valid


# Every offset GS1's schema allows: -14:00 to +14:00.
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: datetime.timedelta(minutes=minutes))


@given(offsets)
def test_an_offset_formatted_for_epcis_parses_back_to_the_same_offset(offset):
    moment = datetime.datetime(2026, 5, 1, 8, 0, tzinfo=datetime.timezone(offset))

    written = epcis.format_offset(moment)

    assert epcis.TIME_ZONE_OFFSET.match(written)
    assert epcis.parse_offset(written).utcoffset(None) == offset


@pytest.mark.parametrize("text", ["+14:30", "-15:00", "02:00", "+2:00", "+02:60", "+0200", "Z", ""])
def test_an_offset_outside_the_schemas_pattern_is_refused(text):
    assert epcis.parse_offset(text) is None


def test_units_have_one_table_for_the_form_and_the_pages():
    assert dict(simple_events.UNITS) == epcis.UNITS
    assert epcis.unit_label("KGM") == "kg"
    assert epcis.unit_label("H87") == "H87"  # a code without a word is shown as it is
