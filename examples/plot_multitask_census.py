"""
Multi-task learning on census: income and marital status
========================================================

The bundled census data has two 0/1 targets, ``income`` (income above 50,000 USD, 6%
positive) and ``never_married`` (43% positive), the pair of the MMoE paper's census
experiment. A multi-task estimator learns both at once, ``fit(X, Y)`` with ``Y`` a
DataFrame of one column per task: the tasks share the field embeddings and a set of
expert networks, and each task has its own gate over the experts and its own tower.
:class:`~sklearn_pangu.MMOEMultiOutput` (multi-gate mixture of experts) and
:class:`~sklearn_pangu.PLEMultiOutput` (task-specific beside shared experts) are
compared, with :class:`~sklearn_pangu.ShareBottomMultiOutput` (one shared bottom
network) as the baseline in the full run.

Run it with ``python examples/plot_multitask_census.py``. The run shown on this page is
``--quick``: 5,000 rows, 3 epochs, small experts, MMoE and PLE only.
"""

# %%
import argparse

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_pangu import MMOEMultiOutput, PLEMultiOutput, ShareBottomMultiOutput
from sklearn_pangu.datasets import load_census_income
from sklearn_pangu.metrics import mean_roc_auc_scorer

parser = argparse.ArgumentParser(description="Multi-task learning on census.")
parser.add_argument(
    "--quick", action="store_true", help="5,000 rows, 3 epochs, 2 models"
)
# Known arguments only, so that the cells also run in a notebook.
quick = parser.parse_known_args()[0].quick

# %%
# Two targets, one split
# ----------------------
# ``Y`` is a DataFrame with the columns ``income`` and ``never_married``. The split is
# stratified on the pairs of labels, so that both halves hold every combination.
X, Y = load_census_income(return_X_y=True)
if quick:
    X, Y = X.iloc[:5000], Y.iloc[:5000]
X_train, X_test, Y_train, Y_test = train_test_split(
    X, Y, test_size=0.2, stratify=Y, random_state=0
)
Y_train.mean().rename("share of positives")

# %%
# Fitting the models
# ------------------
# Early stopping on a validation split (on by default above 10,000 rows) follows the
# mean of the tasks' validation ROC AUCs.
if quick:
    small = {
        "expert_units": (32,),
        "tower_units": (16,),
        "batch_size": 256,
        "max_epochs": 3,
    }
    models = {
        "MMoE": MMOEMultiOutput(num_experts=2, learning_rate=1e-2, **small),
        "PLE": PLEMultiOutput(num_levels=1, learning_rate=1e-2, **small),
    }
else:
    models = {
        "Shared-Bottom": ShareBottomMultiOutput(),
        "MMoE": MMOEMultiOutput(),
        "PLE": PLEMultiOutput(),
    }
for model in models.values():
    model.set_params(early_stopping=True, random_state=0).fit(X_train, Y_train)

# %%
# Test ROC AUC per task
# ---------------------
# ``predict_proba`` returns one ``(n_samples, 2)`` array per task, in the order of
# ``task_names_``. The mean over the tasks is computed by
# :func:`sklearn_pangu.metrics.mean_roc_auc_scorer`, the scorer to pass to
# ``GridSearchCV(scoring=...)`` or ``cross_val_score``: a multi-output classifier's
# ``score`` is subset accuracy, which says little about ranking.
results = {}
for name, model in models.items():
    proba = model.predict_proba(X_test)  # one (n_test, 2) array per task
    results[name] = {
        task: roc_auc_score(Y_test[task], p[:, 1])
        for task, p in zip(model.task_names_, proba)
    }
    results[name]["mean"] = mean_roc_auc_scorer(model, X_test, Y_test)

print(
    f"Census, {len(X_train):,} training and {len(X_test):,} test rows; "
    "test ROC AUC per task"
)
print(f"{'model':<15}" + "".join(f"{column:>15}" for column in results[name]))
for name, scores in results.items():
    print(f"{name:<15}" + "".join(f"{score:>15.4f}" for score in scores.values()))

# %%
# Validation ROC AUC per epoch
# ----------------------------
# ``history_`` records each task's validation ROC AUC under ``valid_auc_<task>``.
fig, axes = plt.subplots(1, len(Y.columns), figsize=(5 * len(Y.columns), 4))
for name, model in models.items():
    for ax, task in zip(axes, model.task_names_):
        ax.plot(
            model.history_[:, "epoch"],
            model.history_[:, f"valid_auc_{task}"],
            marker="o",
            label=name,
        )
for ax, task in zip(axes, Y.columns):
    ax.set(xlabel="epoch", ylabel="validation ROC AUC", title=f"task {task!r}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
fig.tight_layout()
plt.show()
