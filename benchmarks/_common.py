"""What every benchmark shares: one command line, one clock, one memory meter, one recorder, the data.

- Command line (:func:`parser`, :func:`parse`): ``--quick`` runs a small version end to end
  and never records; ``--record`` writes the result into ``RESULTS.md``; ``--models``,
  ``--seeds``, ``--rows``, ``--repeats``, ``--device`` and ``--threads`` where they apply.
- Clock (:func:`clock`): the seconds of each of ``repeats`` calls, by ``time.perf_counter``.
- Memory (:class:`PeakMemory`): the peak resident memory (Linux ``VmHWM``, reset on entry)
  and, on a CUDA device, the peak memory torch allocated on it.
- Recorder (:func:`publish`): prints the tables and, with ``--record``, replaces one
  section of ``RESULTS.md`` (between ``<!-- name:start -->`` and ``<!-- name:end -->``)
  with the title, the date and machine, the exact command, the tables and the notes.
- Data: census income (bundled), Frappe (research-only, read from ``../shared/data``,
  skipped with the reason when absent), ``make_ctr_classification`` rows.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "RESULTS.md"
SHARED_DATA = Path(os.environ.get("SKLEARN_PANGU_SHARED_DATA", BENCHMARKS.parents[1] / "shared" / "data"))
FRAPPE = SHARED_DATA / "frappe"
MIB = 2**20
#: A section of RESULTS.md: its name, then everything between its markers.
SECTION = re.compile(r"<!-- (?P<name>[\w-]+):start -->\n(?P<body>.*?)<!-- (?P=name):end -->", re.S)


# Command line ------------------------------------------------------------------------------


def parser(description: str, **defaults) -> argparse.ArgumentParser:
    """The shared options: ``--quick`` and ``--record`` always, and each option named in ``defaults``.

    ``defaults`` maps ``models``, ``seeds``, ``rows``, ``repeats``, ``device`` or ``threads``
    to its default value (None: the script decides).
    """
    result = argparse.ArgumentParser(description=description, formatter_class=argparse.RawTextHelpFormatter)
    mode = result.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a small run, end to end; records nothing")
    mode.add_argument("--record", action="store_true", help=f"write the result into {RESULTS.name}")
    helps = {
        "models": "the models to run",
        "seeds": "fits per model, with random_state 0, 1, ...",
        "rows": "training rows",
        "repeats": "runs of each measurement; the best is kept",
        "device": "torch device of the estimators",
        "threads": "torch threads (default: torch's)",
    }
    types = {"seeds": int, "rows": int, "repeats": int, "threads": int, "device": str}
    for name, default in defaults.items():
        if name == "models":
            result.add_argument("--models", nargs="+", default=default, help=helps[name])
        else:
            result.add_argument(f"--{name}", type=types[name], default=default, help=helps[name])
    return result


def parse(parser: argparse.ArgumentParser, quick: dict | None = None, argv=None) -> argparse.Namespace:
    """Parsed arguments; with ``--quick``, each option in ``quick`` left at its default takes that value.

    Sets torch's threads when ``--threads`` is given.
    """
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in (quick or {}).items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    return args


def options(text: str) -> dict:
    """``'mixed_precision=bfloat16,sparse_embeddings=True'`` as keyword arguments.

    Values are read as Python literals where they are one, as strings otherwise.
    """
    import ast

    result = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        try:
            result[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            result[key.strip()] = value.strip()
    return result


def describe(settings: dict) -> str:
    """Keyword arguments as a label: ``mixed_precision='bfloat16'``; ``defaults`` when there are none."""
    return ", ".join(f"{key}={value!r}" for key, value in settings.items()) or "defaults"


def section_name(base: str, *parts: str) -> str:
    """``base`` and each non-empty part, in lowercase words joined by underscores.

    A run of some of the models, with speed options or at another size records its own
    section, named by what it covers, and leaves the section of the full run as it is.
    """
    words = [re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts if part]
    return "_".join([base, *words])


def short_names(models: list[str]) -> list[str]:
    """Estimator names without their ending, lowercase: ``DeepFMClassifier`` -> ``deepfm``."""
    return [re.sub(r"(Classifier|MultiOutput)$", "", name).lower() for name in models]


# Clock and memory --------------------------------------------------------------------------


def clock(function: Callable[[], object], repeats: int = 1) -> tuple[list[float], object]:
    """The seconds of each of ``repeats`` calls of ``function()``, and the last call's result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def _status_mib(field: str) -> float | None:
    """A memory line of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    """The resident memory of this process now, in MiB (None off Linux)."""
    return _status_mib("VmRSS")


class PeakMemory:
    """The peak memory of the code run inside ``with PeakMemory(device) as memory:``.

    On entry freed heap memory goes back to the system (glibc ``malloc_trim``, so that the
    code measured does not reuse pages already counted) and the peak RSS count restarts
    (Linux ``/proc/self/clear_refs``). Afterwards ``peak_mib`` is the peak RSS inside the
    block, ``before_mib`` the RSS on entry, ``added_mib`` their difference and ``exact``
    False where the count could not restart (then ``peak_mib`` is the process's peak so
    far). On a CUDA device ``gpu_mib`` is the peak of torch's allocations on it.
    """

    def __init__(self, device: str = "cpu"):
        self.device = str(device)
        self.gpu_mib = None

    def __enter__(self):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.exact = True
        except OSError:
            self.exact = False
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        self.before_mib = rss_mib() or float("nan")
        return self

    def __exit__(self, *exc_info):
        if self.exact:
            self.peak_mib = _status_mib("VmHWM")
        else:
            scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
            self.peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB
        self.added_mib = self.peak_mib - self.before_mib
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            self.gpu_mib = torch.cuda.max_memory_allocated(self.device) / MIB
        return False


def in_child(
    script: Path, arguments: list[str], python: Path | str = sys.executable, environment: dict | None = None
) -> dict | None:
    """Run ``script --child ...`` in a fresh process; its result (JSON on its last line), or None.

    One measurement per process keeps each one's peak memory its own. ``environment``:
    variables set in the child's environment besides this process's. A failure prints
    the end of the child's error output and gives None.
    """
    command = [str(python), str(script), "--child", *map(str, arguments)]
    env = {**os.environ, **environment} if environment else None
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if completed.returncode != 0:
        print(f"{' '.join(command[1:])} failed:\n{completed.stderr[-3000:]}", flush=True)
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


# Recorder ----------------------------------------------------------------------------------


def machine(device: str = "cpu") -> str:
    """One line naming the CPU and its cores, the GPU when ``device`` is one, and the versions."""
    import sklearn
    import skorch
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(device)}" if str(device).startswith("cuda") else ""
    return (
        f"{cpu}, {os.cpu_count()} cores{gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), skorch {skorch.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def command_line(argv: list[str] | None = None) -> str:
    """The command that ran, as typed from the repository root: ``python benchmarks/<script> ...``."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    try:
        shown = script.relative_to(BENCHMARKS.parent).as_posix()
    except ValueError:
        shown = argv[0]
    return shlex.join(["python", shown, *argv[1:]])


def sections(text: str) -> dict[str, str]:
    """Each section of a RESULTS.md text by name: everything between its markers."""
    return {match.group("name"): match.group("body") for match in SECTION.finditer(text)}


def write_section(
    section: str,
    title: str,
    tables: str,
    notes: str = "",
    *,
    device: str = "cpu",
    command: str | None = None,
    path: Path = RESULTS,
) -> None:
    """Replace section ``section`` of ``path`` (append it when new) with one run's result."""
    block = (
        f"<!-- {section}:start -->\n## {title}\n\n"
        f"Measured {datetime.date.today().isoformat()} on {machine(device)}.\n"
        f"Command: `{command or command_line()}`\n\n{tables.strip()}\n"
        + (f"\n{notes.strip()}\n" if notes.strip() else "")
        + f"<!-- {section}:end -->"
    )
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- {re.escape(section)}:start -->.*?<!-- {re.escape(section)}:end -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def publish(args, section: str, title: str, tables: str, notes: str = "", device: str = "cpu") -> None:
    """Print the result; with ``--record``, write it into section ``section`` of RESULTS.md."""
    print(f"\n## {title}\n\n{tables.strip()}\n" + (f"\n{notes.strip()}\n" if notes.strip() else ""))
    if args.record:
        write_section(section, title, tables, notes, device=device)
        print(f"recorded in {RESULTS.relative_to(BENCHMARKS.parent)}, section {section}")
    else:
        print(f"(not recorded: run with --record to write section {section} of {RESULTS.name})")


def mean_std(values, digits: int = 4) -> str:
    values = [v for v in values if v == v]  # NaN: a value the run did not have
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


# Data --------------------------------------------------------------------------------------


def frappe_skip_reason() -> str | None:
    """Why Frappe cannot run here, or None when its files are present."""
    if (FRAPPE / "valid.csv.gz").exists() and (FRAPPE / "test.csv.gz").exists():
        return None
    return (
        f"Frappe skipped: {FRAPPE} is not available (research-only data, never in the repository; "
        "set SKLEARN_PANGU_SHARED_DATA to the folder that holds frappe/)."
    )


def load_frappe(rows: int | None = None):
    """Frappe's ``valid.csv.gz`` to train and ``test.csv.gz`` to test, as strings; None when absent.

    ``rows``: at most this many rows of each.
    """
    reason = frappe_skip_reason()
    if reason:
        print(reason, flush=True)
        return None
    train = pd.read_csv(FRAPPE / "valid.csv.gz", dtype=str, nrows=rows)
    test = pd.read_csv(FRAPPE / "test.csv.gz", dtype=str, nrows=rows)
    y_train = train.pop("label").astype(int).to_numpy()
    y_test = test.pop("label").astype(int).to_numpy()
    return train, test, y_train, y_test


def load_census(rows: int | None = None):
    """Census income (bundled), split 80/20 with ``random_state=0``: X and the label frame (both tasks).

    ``rows``: at most this many training and test rows.
    """
    from sklearn.model_selection import train_test_split

    from sklearn_pangu.datasets import load_census_income

    X, Y = load_census_income(return_X_y=True)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2, random_state=0)
    if rows:
        X_train, Y_train, X_test, Y_test = X_train[:rows], Y_train[:rows], X_test[:rows], Y_test[:rows]
    return X_train, X_test, Y_train, Y_test


#: Synthetic rows are generated up to this many; more training rows repeat them.
SYNTHETIC_BASE = 1_000_000


def synthetic(rows: int, multitask: bool = False):
    """``rows`` training rows of ``make_ctr_classification`` and a tenth as many other rows to test.

    Beyond ``SYNTHETIC_BASE`` rows the training rows repeat the first ``SYNTHETIC_BASE``
    (the generator's own temporaries for 10M rows are larger than a 16 GiB machine).
    ``multitask``: two label columns, the click and :func:`conversion_label`.
    """
    from sklearn_pangu.datasets import make_ctr_classification

    base = min(rows, SYNTHETIC_BASE)
    X, y = make_ctr_classification(base + max(base // 10, 1), random_state=0)
    if multitask:
        y = np.column_stack([y, conversion_label(X, y, seed=1)])
    X_train, X_test, y_train, y_test = X.iloc[:base], X.iloc[base:], y[:base], y[base:]
    if rows > base:
        repeats = -(-rows // base)
        X_train = pd.concat([X_train] * repeats, ignore_index=True).iloc[:rows]
        y_train = np.concatenate([y_train] * repeats)[:rows]
    return X_train, X_test, y_train, y_test


def conversion_label(X: pd.DataFrame, y, seed: int) -> np.ndarray:
    """A second label: a click (``y == 1``) that converts with probability ``sigmoid(2 z)``.

    ``z`` is a fixed function of the row, of about unit variance: the sum, over the columns, of a
    hashed uniform weight of each categorical value (the same for a value wherever it
    occurs) and of each dense value times a fixed normal weight, divided by the square
    root of the number of columns. ``seed`` draws the conversions.
    """
    from scipy.special import expit

    weights = np.random.default_rng(0).normal(size=X.shape[1])
    z = np.zeros(len(X))
    for weight, column in zip(weights, X.columns, strict=True):
        values = X[column]
        if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
            z += weight * values.to_numpy(dtype=np.float64)
            continue
        values = values.astype("category")
        hashes = pd.util.hash_array(
            values.cat.categories.astype(str).to_numpy(dtype=object), hash_key=f"{column:_<16}"[:16]
        )
        uniform = (hashes / 2.0**64 - 0.5) * np.sqrt(12.0)
        codes = values.cat.codes.to_numpy()
        z += np.where(codes >= 0, uniform[codes], 0.0)
    z /= np.sqrt(X.shape[1])
    converts = np.random.default_rng(seed).random(len(X)) < expit(2.0 * z)
    return ((np.asarray(y) == 1) & converts).astype(np.int64)


def as_categories(X_train: pd.DataFrame, X_test: pd.DataFrame):
    """Text columns as ``category`` with the training set's categories (a test value not among them: NaN)."""
    text = [c for c in X_train.columns if not pd.api.types.is_numeric_dtype(X_train[c])]
    X_train = X_train.astype({c: "category" for c in text})
    X_test = X_test.astype({c: pd.CategoricalDtype(X_train[c].cat.categories) for c in text})
    return X_train, X_test


def gradient_boosting(X: pd.DataFrame, random_state: int = 0):
    """The reference model: HistGradientBoostingClassifier behind an ordinal encoding of the text columns.

    It takes the same raw DataFrame as the estimators; unknown and missing values become
    its missing-value bin. A column of more than 255 categories (the most it takes) keeps
    its 254 most frequent ones and puts the rest in one.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in text]
    encode = ColumnTransformer(
        [
            (
                "text",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    max_categories=255,
                ),
                text,
            ),
            ("numeric", "passthrough", numeric),
        ]
    )
    categorical = [True] * len(text) + [False] * len(numeric)
    return make_pipeline(
        encode, HistGradientBoostingClassifier(categorical_features=categorical, random_state=random_state)
    )
