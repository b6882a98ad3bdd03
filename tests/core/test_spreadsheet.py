import pytest

from core.spreadsheet import safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(("value", "cell"), [("Ama's order", "Ama's order"), (1250, "1250"), (None, "")])
def test_other_cells_are_kept_as_they_are(value, cell):
    assert safe_cell(value) == cell
