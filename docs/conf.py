"""Sphinx configuration of the sklearn_pangu documentation site.

Build it with ``make docs`` (warnings are errors). Everything builds offline: no
intersphinx, no download of fonts or scripts (the theme ships its own). The theme is
pydata-sphinx-theme, scikit-learn's: the header links to the sections of the site, one
per caption of the toctrees in ``docs/index.md``, and the left sidebar lists the pages
of the reader's section (``_templates/navbar-sections.html``,
``_templates/section-nav.html``). Two parts of the site are written at
build time, into folders that git ignores:

- ``docs/auto_examples/``: the sphinx-gallery of ``examples/``. The ``plot_*.py``
  scripts are run, with ``--quick`` (``_gallery.quick_argv``), and their printed output
  and figures shown below each cell of code; the other scripts need research-only data
  or a cluster and are shown without being run (``examples/README.rst``);
- ``docs/api/generated/``: autosummary's page per public class and function, from the
  lists in ``docs/api.rst``, each ending with the examples that use it.

The API lists are checked against the ``__all__`` of each documented module:
a public name missing from ``docs/api.rst`` is a build warning, so an error
under ``-W``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))  # for _gallery, the hooks sphinx-gallery imports by name

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
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_pangu {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": "sklearn_pangu"},
    # The header links to the sections of the site, one per caption of the toctrees in
    # docs/index.md; the left sidebar lists the pages of the reader's section.
    "navbar_start": ["navbar-logo"],
    "navbar_center": ["navbar-sections"],
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button-field"],
    "navbar_align": "left",
    "secondary_sidebar_items": ["page-toc", "sg_download_links"],  # the links: on gallery pages only
    "show_toc_level": 2,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    # Nothing fetched when a page is read: no version switcher, no analytics, no icon links.
    "icon_links": [],
    # Filled in by _add_section_navigation, after the theme's check for empty templates.
    "templates_skip_empty_check": ["navbar-sections.html", "section-nav.html"],
}
html_sidebars = {
    "**": ["section-nav"],
    # The index's own sections are listed by the page table of contents.
    "index": [],
    "search": [],
    "genindex": [],
}
html_context = {"default_mode": "light"}

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
toc_object_entries_show_parents = "hide"  # "fit()", not "DeepFMClassifier.fit()", in the page contents
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Examples (sphinx-gallery) ---------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run the plot_*.py scripts; show the others (research-only data, a Dask cluster,
    # `make demo`'s full run) without running them.
    "filename_pattern": r"/plot_",
    "reset_argv": "_gallery.quick_argv",  # each run is `python examples/plot_<name>.py --quick`
    "within_subsection_order": "_gallery.ExampleOrder",
    # "Examples using X" on the API pages, and names in the code linked to them.
    "doc_module": ("sklearn_pangu",),
    "backreferences_dir": "api/generated/backreferences",
    "download_all_examples": False,
    "write_computation_times": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    "only_warn_on_example_error": False,  # an example that raises fails the build
}

# -- Build-time checks and navigation -----------------------------------------------

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


def _check_api_reference(app) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for name in _missing_from_api_reference():
        logger.warning("%s is public (in __all__) but missing from docs/api.rst", name)


def _remove_stale_example_pages(app) -> None:
    """Delete pages of docs/auto_examples/ whose script is gone (renamed or removed).

    sphinx-gallery rewrites the page of each script but never deletes one, and a page
    left behind is in no toctree: a warning, so an error under ``-W``.
    """
    gallery = DOCS / "auto_examples"
    scripts = {path.stem for path in (ROOT / "examples").glob("*.py")}
    for page in gallery.glob("*.rst"):
        if page.stem != "index" and page.stem not in scripts:
            page.unlink()


def _add_section_navigation(app, pagename, templatename, context, doctree) -> None:
    """The header's sections and the left sidebar's pages, from the captions of the root toctree.

    Each ``:caption:`` of the toctrees in ``docs/index.md`` is a section: the header
    links to its first page, and the sidebar lists the pages of the section the reader
    is in (``_templates/navbar-sections.html``, ``_templates/section-nav.html``).
    """
    generate = context.get("generate_toctree_html")
    if generate is None:  # not the pydata theme
        return
    soup = generate("raw", startdepth=0, maxdepth=2, collapse=True, includehidden=True, titles_only=True)
    sections, section_nav = [], ""
    for caption in soup.find_all("p", class_="caption"):
        pages = caption.find_next_sibling("ul")
        first = pages.find("a") if pages is not None else None
        if first is None:
            continue
        current = pages.find("li", class_="current") is not None or pagename == first.get("href")
        sections.append({"title": caption.get_text(strip=True), "href": first["href"], "current": current})
        if current:
            section_nav = f"{caption}{pages}"
    context["pangu_sections"] = sections
    context["pangu_section_nav"] = section_nav


def setup(app):
    app.connect("builder-inited", _remove_stale_example_pages, priority=100)  # before sphinx-gallery
    app.connect("builder-inited", _check_api_reference)
    app.connect("html-page-context", _add_section_navigation, priority=900)  # after the theme's
