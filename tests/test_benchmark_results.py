"""benchmarks/RESULTS.md: each section is one run on one machine, stated once, by a command that exists.

Also the recorder that writes those sections (``benchmarks/_common.py``) and the command-line
convention of the scripts: ``--quick`` never records.
"""

import datetime
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import _common  # noqa: E402
import update_docs  # noqa: E402

MEASURED = re.compile(r"^Measured (?P<date>\d{4}-\d{2}-\d{2}) on (?P<machine>.+)\.$", re.M)
COMMAND = re.compile(
    r"^Command: `(?P<command>(?:python|bash) benchmarks/(?P<script>[\w.]+)(?: [^`]*)?)`"
    r"(?: at commit (?P<commit>[0-9a-f]{7,40}))?$",
    re.M,
)
MARKER = re.compile(r"<!-- (?P<name>[\w-]+):(?P<end>start|end) -->")


def problems(text: str) -> list[str]:
    """What breaks the rules in a RESULTS.md text (empty when nothing does)."""
    found = []
    names = [m.group("name") for m in MARKER.finditer(text) if m.group("end") == "start"]
    ends = [m.group("name") for m in MARKER.finditer(text) if m.group("end") == "end"]
    if names != ends:
        found.append(f"start and end markers do not pair up: {names} against {ends}")
    if len(set(names)) != len(names):
        found.append(f"a section name is used twice: {names}")
    sections = _common.sections(text)
    outside = _common.SECTION.sub("", text).strip().splitlines()
    if outside and not outside[0].startswith("# "):
        found.append("RESULTS.md does not start with its title")
    for name, body in sections.items():
        if not body.startswith("## "):
            found.append(f"{name}: no '## ' title on its first line")
        dates, commands = MEASURED.findall(body), list(COMMAND.finditer(body))
        if len(dates) != 1:
            found.append(f"{name}: {len(dates)} 'Measured <date> on <machine>.' lines, not one")
        if len(commands) != 1:
            found.append(f"{name}: {len(commands)} 'Command: `...`' lines, not one")
        if body.count("python benchmarks/") + body.count("bash benchmarks/") != 1:
            found.append(f"{name}: more than one command named: the section merges runs")
        if "earlier run" in body:
            found.append(f"{name}: rows from an earlier run")
        for date, _ in dates:
            if datetime.date.fromisoformat(date) > datetime.date.today():
                found.append(f"{name}: measured in the future, {date}")
        if "|---" not in body:
            found.append(f"{name}: no table")
    return found


def commands(text: str) -> list[tuple[str, str, str | None]]:
    """(section, script, commit or None) of every section."""
    found = []
    for name, body in _common.sections(text).items():
        match = COMMAND.search(body)
        if match:
            found.append((name, match.group("script"), match.group("commit")))
    return found


def git(*args: str) -> subprocess.CompletedProcess | None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_every_section_is_one_run_on_one_machine_stated_once():
    assert problems(_common.RESULTS.read_text()) == []


@pytest.mark.parametrize("section, script, commit", commands(_common.RESULTS.read_text()))
def test_the_command_of_a_section_exists_or_names_the_commit_that_holds_it(section, script, commit):
    if commit is None:
        assert (BENCHMARKS / script).exists(), f"{section}: benchmarks/{script} does not exist"
        return
    shown = git("cat-file", "-e", f"{commit}:benchmarks/{script}")
    if shown is None:
        pytest.skip("no git history here")
    assert shown.returncode == 0, f"{section}: commit {commit} holds no benchmarks/{script}"


def test_the_rules_catch_a_merged_section():
    merged = (
        "# Benchmark results\n\n<!-- quality:start -->\n## Quality\n\n"
        "Measured 2026-11-28 on Machine B, 2 cores.\n"
        "Command: `python benchmarks/bench_quality.py --models B`\n\n"
        "| model | AUC |\n|---|---|\n| A | 0.90 |\n| B | 0.91 |\n\n"
        "Rows of A are from an earlier run on 2026-11-27 (Machine A), "
        "command `python benchmarks/bench_quality.py`.\n"
        "<!-- quality:end -->\n"
    )
    assert any("earlier run" in problem for problem in problems(merged))
    assert any("more than one command" in problem for problem in problems(merged))
    twice = merged.replace("Rows of A are from", "Measured 2026-11-27 on Machine A.\nRows of A are from")
    assert any("not one" in problem for problem in problems(twice))


def test_the_recorder_writes_a_section_the_rules_accept_and_replaces_it(tmp_path):
    path = tmp_path / "RESULTS.md"
    table = _common.markdown_table(["model", "AUC"], [["DeepFMClassifier", 0.91]])
    command = "python benchmarks/bench_quality.py --record"
    _common.write_section("quality_census", "Quality", table, "Notes.", command=command, path=path)
    _common.write_section(
        "encoder", "Encoding", table, command="python benchmarks/bench_encoder.py", path=path
    )
    first = path.read_text()
    assert problems(first) == []
    assert f"Command: `{command}`" in first
    assert f"Measured {datetime.date.today().isoformat()} on " in first
    _common.write_section(
        "quality_census", "Quality", table.replace("0.9100", "0.9200"), command=command, path=path
    )
    second = path.read_text()
    assert problems(second) == []
    assert list(_common.sections(second)) == ["quality_census", "encoder"]
    assert "0.9200" in second and "0.9100" not in _common.sections(second)["quality_census"]


def test_quick_runs_never_record(tmp_path, monkeypatch):
    path = tmp_path / "RESULTS.md"
    monkeypatch.setattr(_common, "RESULTS", path)
    parser = _common.parser("a benchmark", rows=1_000, seeds=3)
    with pytest.raises(SystemExit):
        _common.parse(parser, argv=["--quick", "--record"])
    args = _common.parse(parser, quick={"rows": 10, "seeds": 1}, argv=["--quick", "--seeds", "2"])
    assert (args.rows, args.seeds) == (10, 2)
    _common.publish(args, "encoder", "Encoding", "| a |\n|---|\n| 1 |")
    assert not path.exists()


def test_the_command_line_is_the_one_typed_from_the_repository_root():
    arguments = ["--models", "deepfm", "--options", "mixed_precision='bfloat16'"]
    line = _common.command_line([str(BENCHMARKS / "bench_peers.py"), *arguments])
    assert shlex.split(line) == ["python", "benchmarks/bench_peers.py", *arguments]


def test_the_model_pages_read_every_quality_and_zoo_section():
    tables = update_docs.recorded_tables()
    names = [
        name
        for name in _common.sections(_common.RESULTS.read_text())
        if name.startswith(update_docs.SECTIONS)
    ]
    assert len(tables) == len(names) > 0
    assert all(table["rows"] and len(table["provenance"]) == 2 for table in tables)


def test_a_model_page_shows_a_row_from_its_latest_run_on_each_machine():
    def table(date: str, machine: str, score: str) -> dict:
        return {
            "title": "Quality on census",
            "date": date,
            "machine": machine,
            "provenance": [f"Measured {date} on {machine}; torch.", "Command: `python benchmarks/x.py`"],
            "header": ["| model | AUC |", "|---|---|"],
            "rows": [f"| BSTClassifier | {score} |", f"| DINClassifier | {score} |"],
            "notes": [],
        }

    tables = [
        table("2026-12-05", "AMD EPYC, 2 cores", "0.70"),
        table("2026-12-04", "GPU NVIDIA H100", "0.71"),
        {**table("2026-12-07", "AMD EPYC, 2 cores", "0.72"), "rows": ["| BSTClassifier | 0.72 |"]},
    ]
    shown = update_docs.results_block("BSTClassifier", tables)
    assert "0.72" in shown and "0.71" in shown and "0.70" not in shown
    assert "0.70" in update_docs.results_block("DINClassifier", tables)
