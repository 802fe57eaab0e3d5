"""Checks of targets that scikit-learn's own validation lets through with an unclear error."""

from __future__ import annotations

import numpy as np
import pandas as pd


def check_mixed_label_types(labels: np.ndarray, name: str) -> None:
    """Raise a ``TypeError`` naming ``name`` when ``labels`` mix strings and other values.

    ``LabelEncoder`` and ``np.unique`` would otherwise fail with
    ``'<' not supported between instances of 'int' and 'str'``, which names nothing.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        Labels without missing values.
    name : str
        How the error names them, e.g. ``"y"`` or ``"y column 'click'"``.

    Raises
    ------
    TypeError
        If some labels are strings and others are not.
    """
    if labels.dtype != object:
        return
    if pd.api.types.infer_dtype(labels, skipna=True) not in ("mixed", "mixed-integer"):
        return
    types = {type(value).__name__ for value in labels}
    if "str" in types and len(types) > 1:
        raise TypeError(
            f"{name} mixes labels of types {sorted(types)}; give every label one type, e.g. "
            "y.astype(str), so that 1 and '1' are not two different classes."
        )
