"""Report CSV cells cannot start a spreadsheet formula."""

from __future__ import annotations

import pytest

from jobs.tasks.reports import safe_cell


@pytest.mark.parametrize(
    ("value", "shown"), [("=1+1", "'=1+1"), ("-x", "'-x"), ("@a", "'@a"), ("plain", "plain")]
)
def test_csv_cells_that_start_a_formula_are_neutralised(value, shown):
    assert safe_cell(value) == shown
