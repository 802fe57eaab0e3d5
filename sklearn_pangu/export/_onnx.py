"""A fitted estimator, its feature encoding included, as one ONNX graph.

The graph reads the raw columns, one input per column, and computes what
``FeatureEncoder.encode`` computes (category keys to indices with
``ai.onnx.ml.LabelEncoder``, scaling with the imputed mean, the clip and the missing
indicators, buckets, piecewise-linear codes, padded lists), then the network exported
by ``torch.onnx.export``, then ``predict_proba``'s probabilities.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._fields import PAD_CODE
from ..preprocessing._column_coders import (
    DENSE_CLIP,
    FIRST_CATEGORY_INDEX,
    MISSING_INDEX,
    UNKNOWN_INDEX,
    _codes_and_keys,
    numeric_column,
)
from ..preprocessing._list_coder import item_codes, keep_last, read_lists

#: The spellings of a missing category or list item in a string input, in order of
#: preference; a spelling that was a category at fit is that category instead.
MISSING_SPELLINGS = ("", "None", "nan", "NaN", "<NA>")
#: The string that fills a list input's slots after the row's last item.
LIST_PADDING = ""
#: The ``ai.onnx.ml`` opset the encoding's ``LabelEncoder`` nodes need (version 2 of the operator).
ML_OPSET = 3
_NETWORK_PREFIX = "network/"
_ENCODING_PREFIX = "encoding/"


def _onnx():
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter imports it)
    except ImportError as exc:
        raise ImportError(
            "Exporting to ONNX needs the optional packages onnx and onnxscript: "
            "pip install 'sklearn-pangu[onnx]'."
        ) from exc
    return onnx


def _encoder_of(estimator):
    check_is_fitted(estimator)
    encoder = getattr(estimator, "encoder_", None)
    if encoder is None or not hasattr(estimator, "net_"):
        raise TypeError(
            f"to_onnx exports sklearn_pangu estimators; {type(estimator).__name__} is not one "
            "(it has no fitted encoder_ and net_)."
        )
    return encoder


def _missing_spelling(categories, choices=MISSING_SPELLINGS) -> str:
    """The first spelling of ``choices`` that is not a category, the one :func:`onnx_inputs` feeds."""
    taken = set(categories)
    spelling = next((s for s in choices if s not in taken), None)
    if spelling is None:
        raise ValueError(
            f"Every spelling of a missing value in the ONNX graph, {list(choices)}, is a category of "
            "this column, so a missing value cannot be fed: fill the missing values instead."
        )
    return spelling


def _input_names(encoder) -> list[str]:
    """The graph's inputs: the columns seen at fit, in order (``x0, x1, ...`` for an unnamed array)."""
    names = getattr(encoder, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(encoder.n_features_in_)]
    return [str(name) for name in names]


# ----------------------------------------------------------------------------- feeding the graph


def onnx_inputs(estimator, X) -> dict[str, np.ndarray]:
    """The inputs of :func:`to_onnx`'s graph for the rows of ``X``, to pass to ONNX Runtime.

    Each categorical column becomes a string array of shape ``(n_samples, 1)`` holding
    its categories' keys (the text of the value: ``3`` and ``3.0`` become ``"3"``, a
    bool ``"True"``/``"False"``) with ``""`` for a missing value; each numeric column a
    float64 array of shape ``(n_samples, 1)`` with NaN for a missing value; each list
    column a string array of shape ``(n_samples, L)``: its last ``L`` items, oldest
    first, then ``""`` in the free slots.

    Parameters
    ----------
    estimator : fitted sklearn_pangu estimator
        The estimator the graph was exported from.
    X : DataFrame, dict of str to sequence, or array-like of shape (n_samples, n_features)
        Raw features with the columns seen at fit; a dict maps each column's name to
        its values.

    Returns
    -------
    inputs : dict of str to ndarray
        One array per input of the graph, by name.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu import LRClassifier
    >>> from sklearn_pangu.export import onnx_inputs
    >>> X = pd.DataFrame({"city": ["a", "b", None, "a"], "age": [20.0, 31.0, 45.0, None]})
    >>> model = LRClassifier(max_epochs=1).fit(X, [0, 1, 1, 0])
    >>> inputs = onnx_inputs(model, X)
    >>> inputs["city"].ravel().tolist(), inputs["age"].ravel().tolist()
    (['a', 'b', '', 'a'], [20.0, 31.0, 45.0, nan])
    """
    encoder = _encoder_of(estimator)
    frame = encoder._check_input(estimator._check_X(X, reset=False))
    coders = encoder._fitted_coders()
    inputs = {}
    if "categorical" in coders:
        coder = coders["categorical"]
        for j, name in enumerate(coder.feature_names_out_):
            column = frame[name]
            codes, keys, aliases = _codes_and_keys(column)
            keys = _resolved_keys(keys, aliases, coder.categories_[j])
            cells = np.empty(len(column), dtype=object)
            present = codes >= 0
            cells[present] = keys[codes[present]]
            if not present.all():
                cells[~present] = _missing_spelling(coder.categories_[j])
            inputs[str(name)] = cells.reshape(-1, 1)
    numeric = [str(c) for c in encoder.numeric_columns_]
    for name in numeric:
        values = numeric_column(frame, list(frame.columns).index(name), name)
        inputs[name] = values.reshape(-1, 1)
    if "lists" in coders:
        coder = coders["lists"]
        for j, (name, length) in enumerate(
            zip(coder.feature_names_in_, coder.sequence_lengths_, strict=True)
        ):
            lists = keep_last(read_lists(frame[name], name, (coder.delimiters or {}).get(name)), int(length))
            codes, keys, aliases = item_codes(lists.items, name)
            keys = _resolved_keys(keys, aliases, coder.categories_[j])
            items = np.empty(len(codes), dtype=object)
            present = codes >= 0
            items[present] = keys[codes[present]]
            if not present.all():
                items[~present] = _missing_spelling(coder.categories_[j], MISSING_SPELLINGS[1:])
            cells = np.full((len(frame), int(length)), LIST_PADDING, dtype=object)
            cells[np.arange(int(length)) < lists.lengths[:, None]] = items
            inputs[str(name)] = cells
    return {name: inputs[name] for name in _input_names(encoder)}


def _resolved_keys(keys: np.ndarray, aliases: dict, categories) -> np.ndarray:
    """``keys`` with a bool's (or a 0/1 number's) other name where only that one is a category."""
    if not aliases:
        return keys
    known = set(categories)
    keys = keys.copy()
    for position, alias in aliases.items():
        if keys[position] not in known and alias in known:
            keys[position] = alias
    return keys


# ----------------------------------------------------------------------------- building the graph


class _Graph:
    """Nodes and constants of the encoding and the head, named under one prefix."""

    def __init__(self, onnx, prefix: str) -> None:
        self.onnx, self.prefix = onnx, prefix
        self.nodes, self.initializers, self.inputs = [], [], []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def const(self, value, hint: str = "const") -> str:
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(
        self,
        op_type: str,
        inputs: list[str],
        hint: str | None = None,
        *,
        output: str | None = None,
        domain: str = "",
        **attributes,
    ) -> str:
        output = output or self.name(hint or op_type.lower())
        self.nodes.append(
            self.onnx.helper.make_node(
                op_type, inputs, [output], name=self.name(op_type), domain=domain, **attributes
            )
        )
        return output

    def input(self, name: str, elem_type: int, width: int) -> str:
        self.inputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, ["n_samples", width]))
        return name

    def label_encoder(self, source: str, keys: list[str], values: list[int], default: int) -> str:
        return self.op(
            "LabelEncoder",
            [source],
            "codes",
            domain="ai.onnx.ml",
            keys_strings=keys,
            values_int64s=values,
            default_int64=default,
        )

    def empty_columns(self, like: str, dtype) -> str:
        """A ``(n_samples, 0)`` tensor of ``dtype``, ``n_samples`` read off input ``like``."""
        rows = self.op("Shape", [like], "rows", start=0, end=1)
        shape = self.op("Concat", [rows, self.const(np.array([0], np.int64))], "shape", axis=0)
        zero = self.onnx.numpy_helper.from_array(np.zeros(1, dtype=dtype))
        return self.op("ConstantOfShape", [shape], "empty", value=zero)


def _category_table(categories, extra: dict[str, int]) -> tuple[list[str], list[int]]:
    """LabelEncoder keys and values: the categories from index 2, then ``extra`` spellings not among them."""
    keys = [str(k) for k in categories]
    values = list(range(FIRST_CATEGORY_INDEX, FIRST_CATEGORY_INDEX + len(keys)))
    known = set(keys)
    for spelling, value in extra.items():
        if spelling not in known:
            keys.append(spelling)
            values.append(value)
    return keys, values


def _encode_categories(graph: _Graph, coder) -> list[str]:
    codes = []
    for j, name in enumerate(coder.feature_names_out_):
        source = graph.input(str(name), graph.onnx.TensorProto.STRING, 1)
        keys, values = _category_table(coder.categories_[j], dict.fromkeys(MISSING_SPELLINGS, MISSING_INDEX))
        codes.append(graph.label_encoder(source, keys, values, UNKNOWN_INDEX))
    return codes


def _encode_lists(graph: _Graph, coder) -> list[str]:
    codes = []
    for j, (name, length) in enumerate(zip(coder.feature_names_in_, coder.sequence_lengths_, strict=True)):
        if LIST_PADDING in set(coder.categories_[j]):
            raise ValueError(
                f"List column {name!r} has the empty string among its items; the ONNX graph reads it "
                "as the padding after a row's last item. Replace it with another spelling and refit."
            )
        source = graph.input(str(name), graph.onnx.TensorProto.STRING, int(length))
        spellings = {LIST_PADDING: PAD_CODE, **dict.fromkeys(MISSING_SPELLINGS[1:], MISSING_INDEX)}
        keys, values = _category_table(coder.categories_[j], spellings)
        codes.append(graph.label_encoder(source, keys, values, UNKNOWN_INDEX))
    return codes


def _encode_buckets(graph: _Graph, coder, numeric_inputs: dict[str, str]) -> list[str]:
    codes = []
    for name, edges in zip(coder.feature_names_in_, coder.bin_edges_, strict=True):
        x = numeric_inputs[str(name)]
        first = graph.const(np.array([[FIRST_CATEGORY_INDEX]], np.int64), "first_bucket")
        if len(edges):
            above = graph.op("GreaterOrEqual", [x, graph.const(edges.reshape(1, -1), "edges")], "above")
            count = graph.op("Cast", [above], "count", to=graph.onnx.TensorProto.INT64)
            passed = graph.op(
                "ReduceSum", [count, graph.const(np.array([1], np.int64))], "passed", keepdims=1
            )
            bucket = graph.op("Add", [passed, first], "bucket")
        else:
            bucket = graph.op("Expand", [first, graph.op("Shape", [x], "shape")], "bucket")
        missing = graph.op("IsNaN", [x], "missing")
        codes.append(
            graph.op("Where", [missing, graph.const(np.array([[MISSING_INDEX]], np.int64)), bucket], "codes")
        )
    return codes


def _as_float32(graph: _Graph, source: str) -> str:
    return graph.op("Cast", [source], "float32", to=graph.onnx.TensorProto.FLOAT)


def _indicators(graph: _Graph, missing: str, columns) -> list[str]:
    if not len(columns):
        return []
    chosen = graph.op("Gather", [missing, graph.const(np.asarray(columns, np.int64))], "indicators", axis=1)
    return [_as_float32(graph, chosen)]


def _encode_scaled(graph: _Graph, scaler, numeric_inputs: dict[str, str]) -> list[str]:
    values = [numeric_inputs[str(name)] for name in scaler.feature_names_in_]
    x = values[0] if len(values) == 1 else graph.op("Concat", values, "numeric", axis=1)
    missing = graph.op("IsNaN", [x], "missing")
    centred = graph.op("Sub", [x, graph.const(scaler.mean_.reshape(1, -1), "mean")], "centred")
    scaled = graph.op("Div", [centred, graph.const(scaler.scale_.reshape(1, -1), "scale")], "scaled")
    imputed = graph.op("Where", [missing, graph.const(np.zeros((1, 1))), scaled], "imputed")
    clipped = graph.op(
        "Clip",
        [imputed, graph.const(np.float64(-DENSE_CLIP)), graph.const(np.float64(DENSE_CLIP))],
        "clipped",
    )
    return [_as_float32(graph, clipped), *_indicators(graph, missing, scaler.indicator_features_)]


def _encode_pieces(graph: _Graph, encoder, numeric_inputs: dict[str, str]) -> list[str]:
    dense, missing_columns = [], []
    for name, boundaries, centers in zip(
        encoder.feature_names_in_, encoder.boundaries_, encoder.centers_, strict=True
    ):
        x = numeric_inputs[str(name)]
        missing = graph.op("IsNaN", [x], "missing")
        missing_columns.append(missing)
        if not len(centers):
            continue
        offset = graph.op("Sub", [x, graph.const(boundaries[:-1].reshape(1, -1), "starts")], "offset")
        share = graph.op("Div", [offset, graph.const(np.diff(boundaries).reshape(1, -1), "widths")], "share")
        clipped = graph.op(
            "Clip", [share, graph.const(np.float64(0.0)), graph.const(np.float64(1.0))], "clip"
        )
        centred = graph.op("Sub", [clipped, graph.const(centers.reshape(1, -1), "centers")], "pieces")
        imputed = graph.op("Where", [missing, graph.const(np.zeros((1, 1))), centred], "imputed")
        dense.append(_as_float32(graph, imputed))
    for j in encoder.indicator_features_:
        dense.append(_as_float32(graph, missing_columns[j]))
    return dense


def _encoding(graph: _Graph, encoder) -> tuple[str, str]:
    """Add the encoding's inputs and nodes; the names of its ``codes`` and ``dense`` outputs."""
    coders = encoder._fitted_coders()
    codes, dense, numeric_inputs = [], [], {}
    names = _input_names(encoder)
    numeric = {str(c) for c in encoder.numeric_columns_}
    for name in names:
        if name in numeric:
            numeric_inputs[name] = graph.input(name, graph.onnx.TensorProto.DOUBLE, 1)
    if "categorical" in coders:
        codes += _encode_categories(graph, coders["categorical"])
    if "buckets" in coders:
        codes += _encode_buckets(graph, coders["buckets"], numeric_inputs)
    if "lists" in coders:
        codes += _encode_lists(graph, coders["lists"])
    if "numeric" in coders:
        dense += _encode_scaled(graph, coders["numeric"], numeric_inputs)
    if "pieces" in coders:
        dense += _encode_pieces(graph, coders["pieces"], numeric_inputs)
    graph.inputs.sort(key=lambda value_info: names.index(value_info.name))
    any_input = graph.inputs[0].name
    return (
        graph.op("Concat", codes, "codes", axis=1) if codes else graph.empty_columns(any_input, np.int64),
        graph.op("Concat", dense, "dense", axis=1) if dense else graph.empty_columns(any_input, np.float32),
    )


def _probabilities(graph: _Graph, logit: str, output: str) -> None:
    """``[1 - p, p]`` for ``p = sigmoid(logit)``, in float64 as ``predict_proba``'s, into ``output``."""
    wide = graph.op("Cast", [logit], "logit", to=graph.onnx.TensorProto.DOUBLE)
    positive = graph.op("Sigmoid", [wide], "positive")
    column = graph.op("Unsqueeze", [positive, graph.const(np.array([1], np.int64))], "column")
    negative = graph.op("Sub", [graph.const(np.ones((1, 1))), column], "negative")
    graph.op("Concat", [negative, column], output=output, axis=1)


# ----------------------------------------------------------------------------- the network


class _NetworkOutputs(torch.nn.Module):
    """The logits ``predict_proba`` reads, and ESMM's pCVR logit when ``with_cvr``."""

    def __init__(self, module: torch.nn.Module, with_cvr: bool) -> None:
        super().__init__()
        self.module, self.with_cvr = module, with_cvr

    def forward(self, codes: torch.Tensor, dense: torch.Tensor):
        if not self.with_cvr:
            return self.module(codes, dense)
        from ..models.multitask._esmm import product_logit

        ctr, cvr = self.module.tower_logits(codes, dense).unbind(dim=-1)
        return torch.stack([ctr, product_logit(ctr, cvr)], dim=-1), cvr


def _output_names(estimator) -> list[str]:
    """One ``probabilities`` output per task (``probabilities_<task>`` for several), then ESMM's pCVR."""
    task_names = getattr(estimator, "task_names_", None)
    if task_names is None or estimator.n_outputs_ == 1:
        names = ["probabilities"]
    else:
        names = [f"probabilities_{task}" for task in task_names]
    if hasattr(estimator, "predict_cvr_proba"):
        names.append("cvr_probabilities")
    return names


def _export_network(onnx, estimator, opset: int | None):
    module = copy.deepcopy(estimator.net_.module_).to("cpu").float().eval()
    with_cvr = hasattr(estimator, "predict_cvr_proba")
    spec = estimator.encoder_.field_spec_
    # Two rows: torch.export specialises a dimension of size 0 or 1.
    codes = torch.zeros((2, spec.n_code_columns), dtype=torch.int64)
    dense = torch.zeros((2, spec.n_dense), dtype=torch.float32)
    batch = torch.export.Dim("batch")
    options = {} if opset is None else {"opset_version": opset}
    with _quiet_exporter():
        program = torch.onnx.export(
            _NetworkOutputs(module, with_cvr),
            (codes, dense),
            dynamo=True,
            input_names=["codes", "dense"],
            output_names=["logits", "cvr_logit"] if with_cvr else ["logits"],
            dynamic_shapes=({0: batch}, {0: batch}),
            verbose=False,
            **options,
        )
    return onnx.compose.add_prefix(program.model_proto, _NETWORK_PREFIX)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's logging (it warns about packages it can do without) and warnings."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# ----------------------------------------------------------------------------- public entry point


def to_onnx(estimator, path: str | os.PathLike | None = None, *, target_opset: int | None = None):
    """Export a fitted estimator, its feature encoding included, as one ONNX model.

    The model's inputs are the raw columns, one per column seen at fit, in that order:
    a categorical column is a string tensor of shape ``(n_samples, 1)`` holding its
    categories' text (what :func:`onnx_inputs` makes of a DataFrame), a numeric column a
    float64 tensor of shape ``(n_samples, 1)`` with NaN for missing, a list column a
    string tensor of shape ``(n_samples, L)``: the row's last ``L`` items, oldest first,
    then ``""``. In a categorical input, ``""``, ``"None"``, ``"nan"``, ``"NaN"`` and
    ``"<NA>"`` mean a missing value unless the column had a category so spelled at fit;
    in a list input, ``""`` fills the slots after the last item. The graph encodes the
    columns as the fitted encoder does (unknown categories, missing values, scaling,
    clipping, buckets, piecewise-linear codes), runs the network, and outputs
    ``predict_proba``'s probabilities in float64: ``probabilities`` of shape
    ``(n_samples, 2)``, or for a multi-task model one ``probabilities_<task>`` per
    task (``probabilities`` when fitted on one target); ESMM adds
    ``cvr_probabilities``, those of :meth:`~sklearn_pangu.ESMMMultiOutput.predict_cvr_proba`.

    The network is exported in float32 by ``torch.onnx.export`` (the dynamo exporter);
    an estimator fitted with ``mixed_precision`` predicts in that precision in Python,
    so the graph's probabilities are those it would give with ``mixed_precision=None``.

    Parameters
    ----------
    estimator : fitted sklearn_pangu estimator
        Any ranking or multi-task estimator of this package.
    path : str or path-like, default=None
        Where to write the model, as one file; nothing is written when None.
    target_opset : int, default=None
        The ONNX opset of the network's operators; None for the exporter's default.

    Returns
    -------
    model : onnx.ModelProto
        The model, to save with ``onnx.save`` or to load with
        ``onnxruntime.InferenceSession(model.SerializeToString())``.

    Raises
    ------
    ImportError
        Without the optional packages (``pip install 'sklearn-pangu[onnx]'``).
    ValueError
        When a column's name is a name the graph uses inside, or a list column has
        the empty string among its items.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> import pandas as pd
    >>> from sklearn_pangu import LRClassifier
    >>> from sklearn_pangu.export import onnx_inputs, to_onnx
    >>> X = pd.DataFrame({"city": ["a", "b", None, "a"], "age": [20.0, 31.0, 45.0, None]})
    >>> model = LRClassifier(max_epochs=1).fit(X, [0, 1, 1, 0])
    >>> session = ort.InferenceSession(to_onnx(model).SerializeToString())
    >>> (proba,) = session.run(None, onnx_inputs(model, X))
    >>> bool(abs(proba - model.predict_proba(X)).max() < 1e-6)
    True
    """
    onnx = _onnx()
    encoder = _encoder_of(estimator)
    network = _export_network(onnx, estimator, target_opset)
    graph = _Graph(onnx, _ENCODING_PREFIX)
    codes, dense = _encoding(graph, encoder)
    graph.op("Identity", [codes], output=f"{_NETWORK_PREFIX}codes")
    graph.op("Identity", [dense], output=f"{_NETWORK_PREFIX}dense")
    head = _Graph(onnx, "head/")
    outputs = _output_names(estimator)
    task_logits = outputs[:-1] if "cvr_probabilities" in outputs else outputs
    logits = f"{_NETWORK_PREFIX}logits"
    for t, output in enumerate(task_logits):
        task = logits
        if hasattr(estimator, "task_names_"):
            task = head.op("Gather", [logits, head.const(np.int64(t))], "task_logit", axis=1)
        _probabilities(head, task, output)
    if "cvr_probabilities" in outputs:
        _probabilities(head, f"{_NETWORK_PREFIX}cvr_logit", "cvr_probabilities")
    double = onnx.TensorProto.DOUBLE
    body = onnx.helper.make_graph(
        [*graph.nodes, *network.graph.node, *head.nodes],
        f"{type(estimator).__name__}",
        graph.inputs,
        [onnx.helper.make_tensor_value_info(name, double, ["n_samples", 2]) for name in outputs],
        initializer=[*graph.initializers, *network.graph.initializer, *head.initializers],
        value_info=list(network.graph.value_info),
    )
    _check_names(body, [value_info.name for value_info in graph.inputs], outputs)
    opsets = [o for o in network.opset_import if o.domain != "ai.onnx.ml"]
    model = onnx.helper.make_model(
        body,
        opset_imports=[*opsets, onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        ir_version=network.ir_version,
        functions=list(network.functions),
        producer_name="sklearn_pangu",
    )
    if path is not None:
        onnx.save_model(model, os.fspath(path))
    return model


def _check_names(graph, inputs: list[str], outputs: list[str]) -> None:
    """Raise when a column's name is also an output's or a value's inside the graph."""
    inside = {name for node in graph.node for name in node.output} | {i.name for i in graph.initializer}
    inside -= set(outputs)
    clashes = sorted(set(inputs) & (inside | set(outputs)))
    if clashes:
        raise ValueError(
            f"Column(s) {clashes} have a name that the ONNX graph uses for a value of its own "
            f"(outputs are {outputs}; values inside start with {_ENCODING_PREFIX!r}, "
            f"{_NETWORK_PREFIX!r} or 'head/'). Rename the column(s) and refit to export."
        )
