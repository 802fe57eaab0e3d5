"""Print a results table and record it in benchmarks/RESULTS.md with date and machine."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

import sklearn
import skorch
import torch

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """One line naming the machine, the libraries and the torch threads."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (
        f"{cpu}, {os.cpu_count()} cores{gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), skorch {skorch.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        return (
            f"{value:,.4f}"
            if isinstance(value, float) and abs(value) < 10
            else (f"{value:,.0f}" if isinstance(value, float) else str(value))
        )

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def record(section: str, title: str, command: str, table: str, notes: str = "") -> None:
    """Print ``table`` and replace the section ``section`` of RESULTS.md with it."""
    print(table)
    block = (
        f"<!-- {section}:start -->\n## {title}\n\n"
        f"Measured {datetime.date.today().isoformat()} on {machine()}.\n"
        f"Command: `{command}`\n\n{table}\n"
        + (f"\n{notes.strip()}\n" if notes else "")
        + f"<!-- {section}:end -->"
    )
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "# Benchmark results\n\nWritten by the scripts in this folder.\n"
    )
    pattern = re.compile(rf"<!-- {section}:start -->.*?<!-- {section}:end -->", re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    RESULTS.write_text(text)


#: The sentence ``merged_rows`` writes for rows it keeps from an earlier run.
EARLIER_ROWS = re.compile(r"Rows of (?P<names>[\w, ]+?) are from an earlier run(?P<source>.*?`[^`]*`)\. ")


def merged_rows(section: str, rows: list[list]) -> tuple[list[list], str]:
    """``rows`` plus the rows recorded earlier in ``section`` for models not in ``rows``.

    Also returns a note naming the run each kept row comes from: the recorded run, or,
    for rows that run had itself kept, the earlier run its note named.
    """
    text = RESULTS.read_text()
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    if start not in text:
        return rows, ""
    recorded = text.split(start, 1)[1].split(end, 1)[0]
    measured = {row[0] for row in rows}
    kept = []
    for line in recorded.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and not line.startswith("| model") and cells[0] not in measured:
            kept.append([*cells[:1], *cells[1:]])
    kept_names = [k[0] for k in kept]
    notes, older = [], set()
    for match in EARLIER_ROWS.finditer(recorded):
        names = [name.strip() for name in match.group("names").split(",")]
        older.update(names)
        still_kept = [name for name in names if name in kept_names]
        if still_kept:
            notes.append(f"Rows of {', '.join(still_kept)} are from an earlier run{match.group('source')}. ")
    from_recorded = [name for name in kept_names if name not in older]
    if from_recorded:
        command = re.search(r"Command: `([^`]*)`", recorded)
        date = re.search(r"Measured (\S+) on ([^\n]*)\.\n", recorded)
        notes.insert(
            0,
            f"Rows of {', '.join(from_recorded)} are from an earlier run"
            + (f" on {date.group(1)} ({date.group(2)})" if date else "")
            + (f", command `{command.group(1)}`. " if command else ". "),
        )
    return sorted(kept + rows, key=lambda row: (row[0].endswith("(reference)"), row[0])), "".join(notes)
