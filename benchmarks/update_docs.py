"""Copy each model's rows of benchmarks/RESULTS.md into its docs page's "Measured results".

Each ``docs/models/<model>.md`` names its estimator in its title (``# DeepFM:
`DeepFMClassifier```); its ``## Measured results`` section is rewritten with the
rows of the recorded quality, multi-task and zoo-speed tables that name that
estimator, with the heading, date, machine, command and notes of each table. Run it after
the benchmarks: ``python benchmarks/update_docs.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTIONS = ("quality_frappe", "quality_census", "multitask", "zoo_speed")


def recorded_tables() -> list[dict]:
    """Each recorded section: its title, provenance lines, table header and rows."""
    text = RESULTS.read_text()
    tables = []
    for section in SECTIONS:
        match = re.search(rf"<!-- {section}:start -->\n(.*?)<!-- {section}:end -->", text, re.S)
        if not match:
            continue
        lines = match.group(1).strip().splitlines()
        title = lines[0].lstrip("# ").strip()
        provenance = [line for line in lines if line.startswith(("Measured ", "Command: "))]
        notes = [line for line in lines[1:] if line and not line.startswith(("|", "Measured ", "Command: "))]
        table = [line for line in lines if line.startswith("|")]
        tables.append(
            {"title": title, "provenance": provenance, "header": table[:2], "rows": table[2:], "notes": notes}
        )
    return tables


def results_block(estimator: str, tables: list[dict]) -> str:
    parts = []
    for table in tables:
        rows = [row for row in table["rows"] if re.search(rf"\b{estimator}\b", row)]
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
