"""Every documented default is the default in the signature, and every parameter is documented."""

import ast
import inspect
import re

import pytest

from sklearn_pangu.utils import all_estimators

PARAMETER_LINE = re.compile(r"^    (\w+) : .*default=(.+)$")


def documented_defaults(estimator_class) -> dict:
    after_heading = estimator_class.__doc__.split("Parameters\n    ----------\n", 1)[1]
    section = after_heading.split("\n\n    Attributes")[0]
    return {m.group(1): m.group(2) for line in section.splitlines() if (m := PARAMETER_LINE.match(line))}


@pytest.mark.parametrize("name, estimator_class", all_estimators())
def test_documented_defaults_match_the_signature(name, estimator_class):
    signature = inspect.signature(estimator_class.__init__).parameters
    documented = documented_defaults(estimator_class)
    parameters = [p for p in signature if p != "self"]
    assert sorted(documented) == sorted(parameters), "documented parameters differ from the signature"
    for parameter, text in documented.items():
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text.strip("'\"")
        assert value == signature[parameter].default, f"{name}.{parameter}: docs say {text}"
