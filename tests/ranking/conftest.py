"""Fixtures of the ranking model tests."""

import pytest

from sklearn_pangu._fields import FieldSpec


@pytest.fixture(
    params=[
        FieldSpec(("a",), (4,), ()),
        FieldSpec((), (), ("x", "y")),
        FieldSpec(("a", "b"), (4, 2), ("x",)),
    ],
    ids=["one_field", "dense_only", "three_fields"],
)
def few_fields_spec(request):
    """Inputs of one to three fields: one categorical, two dense only, two categorical and a dense."""
    return request.param
