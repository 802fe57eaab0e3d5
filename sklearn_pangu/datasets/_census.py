"""The bundled UCI Census-Income (KDD) test file."""

from __future__ import annotations

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch

_COLUMNS = [
    "age", "class_worker", "det_ind_code", "det_occ_code", "education", "wage_per_hour",
    "hs_college", "marital_stat", "major_ind_code", "major_occ_code", "race", "hisp_origin",
    "sex", "union_member", "unemp_reason", "full_or_part_emp", "capital_gains",
    "capital_losses", "stock_dividends", "tax_filer_stat", "region_prev_res", "state_prev_res",
    "det_hh_fam_stat", "det_hh_summ", "instance_weight", "mig_chg_msa", "mig_chg_reg",
    "mig_move_reg", "mig_same", "mig_prev_sunbelt", "num_emp", "fam_under_18", "country_father",
    "country_mother", "country_self", "citizenship", "own_or_self", "vet_question",
    "vet_benefits", "weeks_worked", "year", "income_50k",
]  # fmt: skip
#: Integer-coded columns that are categories, not quantities.
_CODED_CATEGORICAL = ["det_ind_code", "det_occ_code", "own_or_self", "vet_benefits", "year"]
_NOT_FEATURES = ["marital_stat", "instance_weight", "income_50k"]
TARGET_NAMES = ["income", "never_married"]


def load_census_income(*, as_frame: bool = True, return_X_y: bool = False):
    """Load the UCI Census-Income (KDD) test file, bundled with the package.

    99,762 people from the 1994 and 1995 US Current Population Surveys, with the
    two targets of the multi-task literature (MMoE, PLE): ``income`` (income
    above 50,000 USD, 6.2% positive) and ``never_married`` (marital status
    "Never married", 43.3% positive). ``marital_stat`` and ``instance_weight``
    are not features. Text columns have pandas' string dtype; the integer-coded
    categories (industry and occupation codes, ``own_or_self``,
    ``vet_benefits``, ``year``) have the ``category`` dtype, so estimators embed
    them; the other numeric columns are numbers.

    Source: UCI Machine Learning Repository, Census-Income (KDD), file
    ``census-income.test``, licensed CC BY 4.0
    (https://archive.ics.uci.edu/dataset/117/census+income+kdd).

    Parameters
    ----------
    as_frame : bool, default=True
        Return DataFrames; when False, ``data`` is an object ndarray and
        ``target`` an int ndarray.
    return_X_y : bool, default=False
        Return ``(X, Y)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (39 feature columns), ``target`` (the two 0/1 targets, in the
        order ``income``, ``never_married``), ``frame`` (both), ``feature_names``,
        ``target_names`` and ``DESCR``.
    (X, Y) : tuple
        When ``return_X_y=True``.

    Examples
    --------
    >>> from sklearn_pangu.datasets import load_census_income
    >>> X, Y = load_census_income(return_X_y=True)
    >>> X.shape, Y.columns.tolist()
    ((99762, 39), ['income', 'never_married'])
    """
    data_file = resources.files("sklearn_pangu.datasets") / "data" / "census-income.test.gz"
    with resources.as_file(data_file) as path:
        raw = pd.read_csv(path, header=None, names=_COLUMNS, skipinitialspace=True, compression="gzip")
    target = pd.DataFrame(
        {
            "income": (raw["income_50k"] == "50000+.").astype("int64"),
            "never_married": (raw["marital_stat"] == "Never married").astype("int64"),
        }
    )
    features = raw.drop(columns=_NOT_FEATURES)
    for column in _CODED_CATEGORICAL:
        features[column] = features[column].astype("category")
    frame = pd.concat([features, target], axis=1)
    descr = (resources.files("sklearn_pangu.datasets") / "descr" / "census_income.rst").read_text()
    if not as_frame:
        features, target = features.to_numpy(dtype=object), target.to_numpy()
        frame = None
    if return_X_y:
        return features, target
    return Bunch(
        data=features,
        target=target,
        frame=frame,
        feature_names=[c for c in _COLUMNS if c not in _NOT_FEATURES],
        target_names=list(TARGET_NAMES),
        DESCR=descr,
    )
