"""The hyper-parameter tables of the docs name exactly the parameters of the signatures.

A parameter is *shared* when every estimator has it, every multi-task estimator has it, or
every ranking model with an MLP (``hidden_units``) has it. The tables under "Shared
hyper-parameters" in ``docs/index.md`` list those, with the usual default and the estimators
whose default differs. Each model page (``docs/models/<model>.md``, titled
``# Name: `Estimator` ``) lists its estimator's other parameters with their defaults, and
gives its defaults of shared parameters where they differ from the usual one.
"""

import ast
import inspect
import re
from collections import Counter
from pathlib import Path

import pytest

import sklearn_pangu

DOCS = Path(__file__).resolve().parents[1] / "docs"
ESTIMATORS = {
    name: obj for name in sklearn_pangu.__all__ if inspect.isclass(obj := getattr(sklearn_pangu, name))
}
MULTITASK = [cls for name, cls in ESTIMATORS.items() if name.endswith("MultiOutput")]
RANKING = [cls for name, cls in ESTIMATORS.items() if name.endswith("Classifier")]
TABLE_ROW = re.compile(r"^\| `(\w+)`[^|]*\|([^|]*)\|", re.M)
BACKTICKED = re.compile(r"`([^`]+)`")


def parameters(cls) -> dict:
    return {name: p.default for name, p in inspect.signature(cls).parameters.items()}


def common(classes) -> set:
    return set.intersection(*(set(parameters(cls)) for cls in classes))


def usual_default(parameter: str) -> str:
    """The repr of the default most estimators with ``parameter`` give it."""
    defaults = [parameters(cls)[parameter] for cls in ESTIMATORS.values() if parameter in parameters(cls)]
    return Counter(map(repr, defaults)).most_common(1)[0][0]


SHARED = (
    common(ESTIMATORS.values())
    | common(MULTITASK)
    | common([cls for cls in RANKING if "hidden_units" in parameters(cls)])
)


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a Markdown page (empty when absent)."""
    _, found, rest = text.partition(f"\n## {heading}\n")
    return rest.split("\n## ", 1)[0] if found else ""


def table_rows(text: str) -> list[tuple[str, str]]:
    """``(parameter, default cell)`` for every table row whose first cell is a backticked name."""
    return [(m.group(1), m.group(2).strip()) for m in TABLE_ROW.finditer(text)]


def literal(cell: str):
    """The first backticked Python literal of a table cell or a ``name=value`` snippet."""
    return ast.literal_eval(BACKTICKED.search(cell).group(1))


def shared_table() -> dict:
    """``{parameter: default cell}`` of the tables under "Shared hyper-parameters" in docs/index.md."""
    return dict(table_rows(section((DOCS / "index.md").read_text(), "Shared hyper-parameters")))


def model_page(name: str) -> str:
    pages = [
        page.read_text()
        for page in sorted((DOCS / "models").glob("*.md"))
        if re.search(rf"^# .*`{name}`", page.read_text(), re.M)
    ]
    assert len(pages) == 1, f"{name}: {len(pages)} pages in docs/models/ name it in their title"
    return pages[0]


def test_the_shared_table_names_exactly_the_shared_parameters():
    rows = table_rows(section((DOCS / "index.md").read_text(), "Shared hyper-parameters"))
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a parameter appears twice"
    assert set(names) == SHARED, f"missing: {SHARED - set(names)}, not shared: {set(names) - SHARED}"


def test_the_readme_names_every_shared_parameter():
    readme = (DOCS.parent / "README.md").read_text()
    paragraph = readme[readme.index("Every estimator takes the same training parameters") :].split("\n\n")[0]
    missing = SHARED - set(BACKTICKED.findall(paragraph))
    assert not missing, f"the README's paragraph on shared parameters lacks {missing}"


@pytest.mark.parametrize("parameter", sorted(SHARED))
def test_the_shared_table_gives_the_usual_default_and_names_the_exceptions(parameter):
    cell = shared_table().get(parameter)
    assert cell is not None, f"{parameter} is not in the shared table"
    usual = usual_default(parameter)
    assert repr(literal(cell)) == usual, f"{parameter}: the table's default is not the usual one, {usual}"
    for name, cls in ESTIMATORS.items():
        if parameter in parameters(cls) and repr(default := parameters(cls)[parameter]) != usual:
            family = "multi-task" if name.endswith("MultiOutput") else name
            assert name in cell or family in cell, f"{parameter}: {name}'s default {default!r} is not named"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_a_model_page_lists_exactly_the_estimators_own_parameters(name):
    own = {p: default for p, default in parameters(ESTIMATORS[name]).items() if p not in SHARED}
    rows = table_rows(section(model_page(name), "Hyper-parameters"))
    listed = [parameter for parameter, _ in rows]
    assert len(listed) == len(set(listed)), "a parameter appears twice"
    missing, extra = set(own) - set(listed), set(listed) - set(own)
    assert not missing and not extra, f"missing: {missing}, not its own parameters: {extra}"
    for parameter, cell in rows:
        assert literal(cell) == own[parameter], f"{name}.{parameter}: the page says {cell}"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_a_model_page_gives_the_shared_defaults_that_differ(name):
    """Where the estimator's default of a shared parameter is not the usual one, its page says it."""
    text = section(model_page(name), "Hyper-parameters")
    assert "../index.md#shared-hyper-parameters" in text, "no link to the shared table"
    for parameter, default in parameters(ESTIMATORS[name]).items():
        if parameter in SHARED and repr(default) != usual_default(parameter):
            found = re.search(rf"`{parameter}=([^`]+)`", text)
            assert found, f"{name}: the page does not give its default `{parameter}={default!r}`"
            assert ast.literal_eval(found.group(1)) == default, f"{name}: {found.group(0)}"
