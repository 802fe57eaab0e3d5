"""A fitted :class:`~sklearn_pangu.preprocessing.FeatureEncoder` as plain data, and back.

Every category the encoder learned is a string key (see
:func:`~sklearn_pangu.preprocessing._column_coders.category_keys`), and the numeric
coders hold float arrays, so the fitted state is plain data; a list column's coder
holds its items' keys and its number of slots. Rebuilding runs the encoder's own
``_prepare_fit`` and ``ColumnTransformer.fit`` on a two-row stand-in frame with the
fitted columns (a list column's cells as long as its slots), which gives the
transformer its fitted structure (column routing, output widths), then puts the
saved fitted attributes of each column coder in place of the stand-in's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._fields import FieldSpec
from ..preprocessing import FeatureEncoder
from ._codec import decode, encode


def _fitted_attributes(obj) -> dict:
    """Public fitted attributes (``name_``) of ``obj``, encoded."""
    return {
        name: encode(value)
        for name, value in vars(obj).items()
        if name.endswith("_") and not name.startswith("_")
    }


def _column_names(encoder: FeatureEncoder) -> list[str]:
    """Input columns in their fitted order, as the encoder names them internally."""
    names = getattr(encoder, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [f"x{i}" for i in range(encoder.n_features_in_)]


def encoder_state(encoder: FeatureEncoder) -> dict:
    """Return the fitted state of ``encoder`` as JSON-ready data."""
    coders = {}
    for name, transformer, columns in encoder.column_transformer_.transformers_:
        if name != "remainder" and len(columns):
            coders[name] = _fitted_attributes(transformer)
    has_names = getattr(encoder, "feature_names_in_", None) is not None
    return {
        "params": encode(encoder.get_params(deep=False)),
        "columns": _column_names(encoder),
        "has_feature_names": has_names,
        "categorical_columns": [str(c) for c in encoder.categorical_columns_],
        "multi_value_columns": [str(c) for c in getattr(encoder, "multi_value_columns_", [])],
        "coders": coders,
        "field_spec": {
            "categorical_fields": list(encoder.field_spec_.categorical_fields),
            "cardinalities": [int(c) for c in encoder.field_spec_.cardinalities],
            "dense_features": list(encoder.field_spec_.dense_features),
            "sequence_lengths": [int(n) for n in encoder.field_spec_.sequence_lengths],
            "shared_tables": [int(j) for j in encoder.field_spec_.shared_tables],
            "dense_fields": [int(j) for j in encoder.field_spec_.dense_fields],
        },
    }


def _stand_in_frame(
    columns: list[str], categorical: set, indicators: set, slots: dict, delimiters: dict
) -> pd.DataFrame:
    """Two rows that make each coder's output as wide as the saved one's.

    A list column's cells hold as many items as it has ``slots``: lists, or text
    joined by its delimiter.
    """
    data = {}
    for name in columns:
        if name in slots:
            cells = [[item] * slots[name] for item in ("a", "b")]
            if name in delimiters:
                cells = [delimiters[name].join(cell) for cell in cells]
            data[name] = pd.Series(cells, dtype=object)
        elif name in categorical:
            data[name] = pd.Series(["a", "b"], dtype=object)
        else:
            data[name] = [0.0, np.nan if name in indicators else 1.0]
    return pd.DataFrame(data, columns=columns)


def rebuild_encoder(state: dict) -> FeatureEncoder:
    """Inverse of :func:`encoder_state`; raise ``ValueError`` when the state does not fit together."""
    params = decode(state["params"])
    columns = [str(c) for c in state["columns"]]
    categorical = [str(c) for c in state["categorical_columns"]]
    listed = [str(c) for c in state.get("multi_value_columns", [])]
    if len(set(columns)) != len(columns) or not set(categorical) | set(listed) <= set(columns):
        raise ValueError("the encoder's columns are inconsistent")
    coders = {name: {k: decode(v) for k, v in attrs.items()} for name, attrs in state["coders"].items()}
    indicators = set()
    for route in ("numeric", "pieces"):
        numeric = coders.get(route, {})
        names_in = [str(n) for n in numeric.get("feature_names_in_", [])]
        indicators |= {names_in[int(j)] for j in numeric.get("indicator_features_", [])}
    lists = coders.get("lists", {})
    list_names = [str(n) for n in lists.get("feature_names_in_", [])]
    slots = dict(zip(list_names, (int(n) for n in lists.get("sequence_lengths_", [])), strict=False))
    if sorted(slots) != sorted(listed) or any(n < 1 for n in slots.values()):
        raise ValueError("the encoder's list columns are inconsistent")
    declared = params.get("multi_value_features")
    delimiters = (
        {k: v for k, v in declared.items() if isinstance(v, str)} if isinstance(declared, dict) else {}
    )

    mask = np.array([name in categorical for name in columns], dtype=bool)
    encoder = FeatureEncoder(**{**params, "categorical_features": mask})
    frame = encoder._prepare_fit(_stand_in_frame(columns, set(categorical), indicators, slots, delimiters))
    encoder.column_transformer_.fit(frame)
    fitted = {name: transformer for name, transformer, _ in encoder.column_transformer_.transformers_}
    if set(coders) - set(fitted):
        raise ValueError(f"unknown column coders {sorted(set(coders) - set(fitted))}")
    for name, attributes in coders.items():
        transformer = fitted[name]
        for attribute, value in attributes.items():
            if not hasattr(transformer, attribute):
                raise ValueError(f"unexpected attribute {attribute!r} of the {name} coder")
            setattr(transformer, attribute, value)
        # Counts the stand-in kept for a shared vocabulary; the saved one is already shared.
        transformer.__dict__.pop("_shared_counts", None)

    encoder.set_params(categorical_features=params["categorical_features"])
    if not state["has_feature_names"]:
        del encoder.feature_names_in_
    spec = state["field_spec"]
    encoder.field_spec_ = FieldSpec(
        categorical_fields=tuple(str(f) for f in spec["categorical_fields"]),
        cardinalities=tuple(int(c) for c in spec["cardinalities"]),
        dense_features=tuple(str(f) for f in spec["dense_features"]),
        sequence_lengths=tuple(int(n) for n in spec.get("sequence_lengths", ())),
        shared_tables=tuple(int(j) for j in spec.get("shared_tables", ())),
        dense_fields=tuple(int(j) for j in spec.get("dense_fields", ())),
    )
    if encoder._build_field_spec() != encoder.field_spec_:
        raise ValueError("the encoder's field spec does not match its column coders")
    return encoder
