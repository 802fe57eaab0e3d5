"""benchmarks/_results.py: a merged table keeps where each kept row was measured."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _results  # noqa: E402

RECORDED = """<!-- quality:start -->
## Quality

Measured 2026-11-28 on Machine B (2 cores).
Command: `bench --models B C`

| model | AUC |
|---|---|
| A | 0.90 |
| B | 0.91 |
| C | 0.92 |
| D | 0.93 |

Rows of A, D are from an earlier run on 2026-11-27 (Machine A, 16 cores), command `bench --all`. Notes.
<!-- quality:end -->
"""


@pytest.fixture
def results(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    path.write_text(RECORDED)
    monkeypatch.setattr(_results, "RESULTS", path)
    return path


def test_merged_rows_keep_each_row_with_the_run_it_came_from(results):
    rows, note = _results.merged_rows("quality", [["C", "0.95"]])
    assert [row[0] for row in rows] == ["A", "B", "C", "D"]
    assert dict((row[0], row[1]) for row in rows)["C"] == "0.95"
    assert (
        "Rows of B are from an earlier run on 2026-11-28 (Machine B (2 cores)), command `bench --models B C`."
        in note
    )
    assert (
        "Rows of A, D are from an earlier run on 2026-11-27 (Machine A, 16 cores), command `bench --all`."
        in note
    )


def test_a_remeasured_row_leaves_the_notes(results):
    _, note = _results.merged_rows("quality", [["A", "0.99"], ["B", "0.99"]])
    assert note == (
        "Rows of C are from an earlier run on 2026-11-28 (Machine B (2 cores)), "
        "command `bench --models B C`. "
        "Rows of D are from an earlier run on 2026-11-27 (Machine A, 16 cores), command `bench --all`. "
    )
