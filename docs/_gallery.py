"""sphinx-gallery hooks of the documentation build, named by string in ``docs/conf.py``.

They live in a module of their own because Sphinx caches its configuration: a function
defined in ``conf.py`` cannot be pickled, so sphinx-gallery is given the fully qualified
names ``_gallery.quick_argv`` and ``_gallery.ExampleOrder`` instead.
"""

from __future__ import annotations

from pathlib import Path

#: The examples first in the gallery, in this order; the others follow by file name.
FIRST = [
    "plot_quickstart.py",
    "demo_census.py",
    "plot_pipeline_grid_search.py",
    "plot_learning_curves.py",
    "compare_models_roc.py",
    "plot_behavior_sequences.py",
    "movielens_behavior.py",
    "plot_multitask_census.py",
    "esmm_aliexpress.py",
    "plot_save_and_serve.py",
    "plot_serve_onnx.py",
    "plot_out_of_core_parquet.py",
    "dask_search.py",
]


def quick_argv(gallery_conf, script_vars) -> list[str]:
    """The command-line arguments of every example the gallery runs: its quick mode.

    sphinx-gallery runs each ``examples/plot_*.py`` with ``sys.argv[1:]`` set to this
    list, as ``python examples/plot_<name>.py --quick`` would, so that the whole gallery
    runs in about a minute on two cores.
    """
    return ["--quick"]


class ExampleOrder:
    """Sort key of the gallery: the examples of :data:`FIRST` in that order, then by name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        return (FIRST.index(name) if name in FIRST else len(FIRST), name)

    def __repr__(self) -> str:  # sphinx-gallery compares configurations by their repr
        return f"{type(self).__name__}()"
