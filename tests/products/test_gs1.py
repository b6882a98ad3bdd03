import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core import gs1


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_gtin13_body_with_its_check_digit_normalises_to_14_digits(body):
    gtin = gs1.gtin_with_check_digit(body)
    assert gs1.gtin_normalize(gtin) == gtin
    assert gs1.gtin_normalize(gtin[1:]) == gtin  # the GTIN-13 form meets its GTIN-14 form
    assert len(gtin) == 14


@given(st.from_regex(r"\A[0-9]{12}\Z"), st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_refused_and_the_right_one_named(body, offset):
    good = gs1.gtin_with_check_digit(body)
    bad = good[:-1] + str((int(good[-1]) + offset) % 10)
    with pytest.raises(ValidationError) as excinfo:
        gs1.gtin_normalize(bad)
    assert excinfo.value.code == "gtin_check_digit"
    assert f"should end in {good[-1]}" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    ("value", "code"),
    [("", "gtin_format"), ("95012345678A", "gtin_format"), ("12345", "gtin_length"), ("1" * 15, "gtin_length")],
)
def test_malformed_gtins_get_a_clear_error(value, code):
    with pytest.raises(ValidationError) as excinfo:
        gs1.gtin_normalize(value)
    assert excinfo.value.code == code


def test_gtin8_and_upc12_are_left_padded():
    assert gs1.gtin_normalize("96385074") == "00000096385074"
    assert gs1.gtin_normalize("036000291452") == "00036000291452"


@pytest.mark.parametrize("lot", ["CH24-0117", "A", "x" * 20, "AB/12.3_4"])
def test_gs1_lot_numbers_are_accepted(lot):
    gs1.lot_validate(lot)


@pytest.mark.parametrize(("lot", "code"), [("x" * 21, "lot_length"), ("LOT 1", "lot_charset"), ("LÖT1", "lot_charset")])
def test_lot_numbers_outside_ai10_are_refused(lot, code):
    with pytest.raises(ValidationError) as excinfo:
        gs1.lot_validate(lot)
    assert excinfo.value.code == code


def test_gln_check_digit_is_verified():
    valid = gs1.gtin_with_check_digit("952000000001")[1:]
    gs1.gln_validate(valid)
    with pytest.raises(ValidationError):
        gs1.gln_validate(valid[:-1] + str((int(valid[-1]) + 1) % 10))


def test_a_lot_ending_in_a_newline_is_refused():
    with pytest.raises(ValidationError):
        gs1.lot_validate("LOT1\n")
