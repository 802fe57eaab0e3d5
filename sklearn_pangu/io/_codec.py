"""Plain values to JSON and back, keeping the Python and numpy types that estimators hold.

JSON has no tuples, numpy arrays, numpy scalars or non-finite floats; an estimator's
parameters and fitted attributes use all of them, and ``get_params`` must give back
exactly what it gave before saving (``(8,)`` is not ``[8]``). A value that is not a
JSON scalar or a list is written as a tagged object ``{"__type__": ..., ...}``;
decoding builds only the types listed here, never an object named by the file.
"""

from __future__ import annotations

import math

import numpy as np

TYPE_KEY = "__type__"

#: numpy dtype kinds an array may have in a file: bool, ints, floats, unicode, object.
ARRAY_KINDS = "biufUO"


class UnencodableValueError(TypeError):
    """A value holds something other than plain data (a callable, an object instance, ...)."""


def _encode_float(value: float):
    if math.isfinite(value):
        return value
    return {TYPE_KEY: "float", "value": repr(value)}  # 'nan', 'inf', '-inf'


def encode(value):
    """Turn ``value`` into JSON-ready data; raise :class:`UnencodableValueError` if it is not plain data."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if type(value) is float:
        return _encode_float(value)
    if isinstance(value, np.generic):
        array = encode(np.asarray(value))
        return {TYPE_KEY: "scalar", "dtype": array["dtype"], "value": array["data"][0]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            raise UnencodableValueError(f"a numpy array of dtype {value.dtype}")
        if value.dtype.kind == "O":
            data = [encode(v) for v in value.ravel().tolist()]
        elif value.dtype.kind == "f":
            data = [_encode_float(float(v)) for v in value.ravel().tolist()]
        else:
            data = value.ravel().tolist()
        return {TYPE_KEY: "ndarray", "dtype": value.dtype.str, "shape": list(value.shape), "data": data}
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is tuple:
        return {TYPE_KEY: "tuple", "items": [encode(v) for v in value]}
    if type(value) is dict:
        return {TYPE_KEY: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    raise UnencodableValueError(f"a {type(value).__module__}.{type(value).__qualname__} object")


def _decode_float(data) -> float:
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    if (
        isinstance(data, dict)
        and data.get(TYPE_KEY) == "float"
        and data.get("value") in ("nan", "inf", "-inf")
    ):
        return float(data["value"])
    raise ValueError(f"expected a float, found {data!r:.80}")


def _decode_array(data: dict) -> np.ndarray:
    dtype = np.dtype(str(data["dtype"]))
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject and dtype.kind != "O":
        raise ValueError(f"arrays of dtype {dtype} are not allowed")
    shape = tuple(int(n) for n in data["shape"])
    items = data["data"]
    if not isinstance(items, list):
        raise ValueError("array data must be a list")
    if dtype.kind == "O":
        flat = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            flat[i] = decode(item)
    elif dtype.kind == "f":
        flat = np.array([_decode_float(item) for item in items], dtype=dtype)
    else:
        if not all(isinstance(item, (bool, int, str)) for item in items):
            raise ValueError(f"array of dtype {dtype} holds values of another type")
        flat = np.array(items, dtype=dtype) if items else np.empty(0, dtype=dtype)
    return flat.reshape(shape)


def decode(data):
    """Inverse of :func:`encode`; raise ``ValueError`` on anything :func:`encode` does not write."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise ValueError(f"unexpected JSON value {data!r:.80}")
    kind = data.get(TYPE_KEY)
    if kind == "float":
        return _decode_float(data)
    if kind == "tuple":
        return tuple(decode(v) for v in data["items"])
    if kind == "dict":
        return {decode(k): decode(v) for k, v in data["items"]}
    if kind == "ndarray":
        return _decode_array(data)
    if kind == "scalar":
        return _decode_array({"dtype": data["dtype"], "shape": [], "data": [data["value"]]})[()]
    raise ValueError(f"unknown tagged value {kind!r:.80}")
