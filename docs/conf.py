"""Sphinx configuration of the sklearn_pangu documentation site.

Build it with ``make docs`` (warnings are errors). Everything builds offline: no
intersphinx, no extension beyond Sphinx's own, numpydoc and myst-parser. Two parts
of the site are written at build time, into folders that git ignores:

- ``docs/auto_examples/``: one page per ``examples/*.py`` script, its module
  docstring as text and the script itself through ``literalinclude`` (the
  examples are not executed);
- ``docs/api/generated/``: autosummary's page per public class and function,
  from the lists in ``docs/api.rst``.

The API lists are checked against the ``__all__`` of each documented module:
a public name missing from ``docs/api.rst`` is a build warning, so an error
under ``-W``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import sklearn_pangu  # noqa: E402

project = "sklearn_pangu"
author = "sklearn_pangu developers"
copyright = "sklearn_pangu developers"
release = sklearn_pangu.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sklearn_pangu {release}"
html_theme_options = {
    "description": "CTR ranking and multi-task recommendation models as scikit-learn estimators",
    "fixed_sidebar": True,
    "page_width": "1180px",
    "sidebar_width": "250px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_show_sourcelink = False

# -- Markdown (myst-parser) ----------------------------------------------------
# GitHub-style anchors for headings down to ###, so that links such as
# ``../index.md#shared-hyper-parameters`` resolve on the site as they do on GitHub.
myst_heading_anchors = 3
myst_enable_extensions: list[str] = []  # plain CommonMark + tables; no extension is needed

# -- API reference (autodoc, autosummary, numpydoc) -----------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Build-time pages ---------------------------------------------------------

#: Modules whose ``__all__`` the API reference must cover.
API_MODULES = [
    "sklearn_pangu",
    "sklearn_pangu.preprocessing",
    "sklearn_pangu.datasets",
    "sklearn_pangu.metrics",
    "sklearn_pangu.nn",
    "sklearn_pangu.models.ranking",
    "sklearn_pangu.models.multitask",
    "sklearn_pangu.io",
    "sklearn_pangu.distributed",
    "sklearn_pangu.callbacks",
    "sklearn_pangu.exceptions",
]
#: Public names that are not documented objects of their own.
NOT_DOCUMENTED = {"__version__"}


def _missing_from_api_reference() -> list[str]:
    """``module.name`` for each public name of API_MODULES that docs/api.rst does not list."""
    listed = set(re.findall(r"^\s+~?([\w.]+)\s*$", (DOCS / "api.rst").read_text(), re.M))
    missing = []
    for module_name in API_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            if name in NOT_DOCUMENTED:
                continue
            if name not in listed and f"{module_name}.{name}" not in listed:
                missing.append(f"{module_name}.{name}")
    return missing


#: Examples listed first in the gallery, in this order; the others follow by name.
FIRST_EXAMPLES = ["quickstart", "demo_census"]


def _example_page(script: Path) -> str:
    """The reST page of one example: its docstring as text, then the script."""
    docstring = ast.get_docstring(ast.parse(script.read_text())) or script.stem
    title, _, body = docstring.partition("\n")
    title = title.strip().rstrip(".")
    return (
        f".. _example_{script.stem}:\n\n"
        f"{title}\n{'=' * len(title)}\n\n"
        f"{body.strip()}\n\n"
        f"Source: ``examples/{script.name}``; run it with ``python examples/{script.name}``.\n\n"
        f".. literalinclude:: ../../examples/{script.name}\n"
        "   :language: python\n"
        "   :linenos:\n"
    )


def write_example_pages() -> None:
    """Write docs/auto_examples/: an index and one page per examples/*.py script."""
    out = DOCS / "auto_examples"
    out.mkdir(exist_ok=True)
    scripts = sorted(
        (ROOT / "examples").glob("*.py"),
        key=lambda script: (
            script.stem not in FIRST_EXAMPLES,
            FIRST_EXAMPLES.index(script.stem) if script.stem in FIRST_EXAMPLES else 0,
            script.stem,
        ),
    )
    pages = {script.stem: _example_page(script) for script in scripts}
    index = (
        "Examples\n========\n\n"
        "Scripts from the ``examples/`` folder of the repository. Each page shows the\n"
        "script's description and its code; run a script from the repository root with\n"
        "``python examples/<name>.py`` (``make demo`` runs ``demo_census.py``).\n\n"
        ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {stem}\n" for stem in pages)
    )
    pages["index"] = index
    for stem, text in pages.items():
        path = out / f"{stem}.rst"
        # Rewrite only what changed, so that Sphinx's incremental builds stay incremental.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for stale in out.glob("*.rst"):
        if stale.stem not in pages:
            stale.unlink()


def _check_api_reference(app) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for name in _missing_from_api_reference():
        logger.warning("%s is public (in __all__) but missing from docs/api.rst", name)


def setup(app):
    write_example_pages()
    app.connect("builder-inited", _check_api_reference)
