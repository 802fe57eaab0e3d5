"""Copy each model's rows of benchmarks/RESULTS.md into its docs page's "Measured results".

Each ``docs/models/<model>.md`` names its estimator in its title (``# DeepFM:
`DeepFMClassifier```); its ``## Measured results`` section is rewritten with the rows
that name that estimator in every quality and zoo section of RESULTS.md (``SECTIONS``),
each with its heading, date, machine, command and notes. A row measured again in a later
section of the same heading on the same machine (a re-run of some models after a change)
is shown only from the latest one. Run it after recording a benchmark:
``python benchmarks/update_docs.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
#: The sections copied into the model pages: every section whose name starts with one of these
#: (``bench_quality.py``'s ``quality_*``, ``bench_peers.py --zoo``'s ``zoo*``, and the recorded
#: ``multitask`` section), in the order of RESULTS.md.
SECTIONS = ("quality_", "multitask", "zoo")


def recorded_tables() -> list[dict]:
    """Each recorded section: its title, provenance lines, table header and rows."""
    tables = []
    for name, body in _common.sections(RESULTS.read_text()).items():
        if not name.startswith(SECTIONS):
            continue
        lines = body.strip().splitlines()
        title = lines[0].lstrip("# ").strip()
        provenance = [line for line in lines if line.startswith(("Measured ", "Command: "))]
        date, machine = re.match(r"Measured (\S+) on ([^;]+)", provenance[0]).groups()
        notes = [line for line in lines[1:] if line and not line.startswith(("|", "Measured ", "Command: "))]
        table = [line for line in lines if line.startswith("|")]
        tables.append(
            {
                "title": title,
                "date": date,
                "machine": machine,
                "provenance": provenance,
                "header": table[:2],
                "rows": table[2:],
                "notes": notes,
            }
        )
    return tables


def _label(row: str) -> str:
    return row.split("|")[1].strip()


def latest_measurements(tables: list[dict]) -> dict:
    """``(heading, machine, row label) -> index`` of the table that measured it last (by date, then order)."""
    latest = {}
    for index, table in enumerate(tables):
        for row in table["rows"]:
            key = (table["title"], table["machine"], _label(row))
            if key not in latest or table["date"] >= tables[latest[key]]["date"]:
                latest[key] = index
    return latest


def results_block(estimator: str, tables: list[dict]) -> str:
    parts = []
    latest = latest_measurements(tables)
    for index, table in enumerate(tables):
        rows = [
            row
            for row in table["rows"]
            if re.search(rf"\b{estimator}\b", row)
            and latest[(table["title"], table["machine"], _label(row))] == index
        ]
        if not rows:
            continue
        parts.append(
            f"**{table['title']}** (from `benchmarks/RESULTS.md`)\n\n"
            + "\n".join(table["provenance"])
            + "\n\n"
            + "\n".join(table["header"] + rows)
            + ("\n\n" + " ".join(table["notes"]) if table["notes"] else "")
        )
    if not parts:
        return "Not measured yet: no table in `benchmarks/RESULTS.md` names this model."
    return "\n\n".join(parts)


def main() -> None:
    tables = recorded_tables()
    for page in sorted((ROOT / "docs" / "models").glob("*.md")):
        text = page.read_text()
        title = re.search(r"^# .*`(\w+)`", text, re.M)
        if title is None or "## Measured results" not in text:
            continue
        head, _, tail = text.partition("## Measured results")
        rest = re.search(r"\n## ", tail)
        after = tail[rest.start() :] if rest else "\n"
        page.write_text(f"{head}## Measured results\n\n{results_block(title.group(1), tables)}\n{after}")
        print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
