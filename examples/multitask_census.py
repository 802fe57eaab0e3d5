"""Multi-task learning on census: income and marital status from one network.

The bundled census data has two 0/1 targets, ``income`` (income above 50,000 USD, 6%
positive) and ``never_married`` (43% positive), the pair of the MMoE paper's census
experiment. A multi-task estimator takes both at once, ``fit(X, Y)`` with ``Y`` a
DataFrame of one column per task: the tasks share the field embeddings and a set of
expert networks, and each task has its own gate over the experts and its own tower.
:class:`~sklearn_pangu.MMOEMultiOutput` (multi-gate mixture of experts) and
:class:`~sklearn_pangu.PLEMultiOutput` (task-specific beside shared experts) are
compared here, and :class:`~sklearn_pangu.ShareBottomMultiOutput` (one shared bottom
network) as the baseline in the full run.

``predict_proba`` returns one ``(n_samples, 2)`` array per task, in the order of
``task_names_``. The script prints each task's test ROC AUC and their mean, computed
by :func:`sklearn_pangu.metrics.mean_roc_auc_scorer`, the scorer to pass to
``GridSearchCV(scoring=...)`` or ``cross_val_score`` (a multi-output classifier's
``score`` is subset accuracy, which says little about ranking). It also plots each
task's validation ROC AUC per epoch, read from ``history_`` (keys
``valid_auc_<task>``), and writes ``multitask_census.png`` to ``--output-dir``.

Usage: ``python examples/multitask_census.py [--quick] [--output-dir DIR]``
(``--quick``: 5,000 rows, 3 epochs, small experts, MMoE and PLE only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_pangu import MMOEMultiOutput, PLEMultiOutput, ShareBottomMultiOutput  # noqa: E402
from sklearn_pangu.datasets import load_census_income  # noqa: E402
from sklearn_pangu.metrics import mean_roc_auc_scorer  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 rows, 3 epochs, small experts, 2 models")
    parser.add_argument("--output-dir", type=Path, default=Path.cwd(), help="where multitask_census.png goes")
    args = parser.parse_args(argv)

    X, Y = load_census_income(return_X_y=True)  # Y: DataFrame with the columns income, never_married
    if args.quick:
        X, Y = X.iloc[:5000], Y.iloc[:5000]
    # Stratified on the pairs of labels, so that both splits hold every combination.
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2, stratify=Y, random_state=0)

    if args.quick:
        small = {
            "expert_units": (32,),
            "tower_units": (16,),
            "batch_size": 256,
            "max_epochs": 3,
            "learning_rate": 1e-2,
        }
        models = {
            "MMoE": MMOEMultiOutput(num_experts=2, **small),
            "PLE": PLEMultiOutput(num_levels=1, **small),
        }
    else:
        models = {
            "Shared-Bottom": ShareBottomMultiOutput(),
            "MMoE": MMOEMultiOutput(),
            "PLE": PLEMultiOutput(),
        }

    results = {}
    fig, axes = plt.subplots(1, len(Y.columns), figsize=(5 * len(Y.columns), 4))
    for name, model in models.items():
        # Early stopping on a validation split (on by default above 10,000 rows) follows the mean task AUC.
        model.set_params(early_stopping=True, random_state=0).fit(X_train, Y_train)
        proba = model.predict_proba(X_test)  # one (n_test, 2) array per task
        results[name] = {
            task: roc_auc_score(Y_test[task], p[:, 1]) for task, p in zip(model.task_names_, proba)
        }
        results[name]["mean"] = mean_roc_auc_scorer(model, X_test, Y_test)
        for ax, task in zip(axes, model.task_names_):
            ax.plot(
                model.history_[:, "epoch"], model.history_[:, f"valid_auc_{task}"], marker="o", label=name
            )

    print(f"Census, {len(X_train):,} training and {len(X_test):,} test rows; test ROC AUC per task")
    print(f"{'model':<15}" + "".join(f"{column:>15}" for column in results[name]))
    for name, scores in results.items():
        print(f"{name:<15}" + "".join(f"{score:>15.4f}" for score in scores.values()))

    for ax, task in zip(axes, Y.columns):
        ax.set(xlabel="epoch", ylabel="validation ROC AUC", title=f"task {task!r}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    fig.tight_layout()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "multitask_census.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
