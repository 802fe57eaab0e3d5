"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_pangu.utils import all_estimators

from .conftest import tiny_params

NETWORK_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: weighting a row is not the same as repeating it"
    ),
    "check_sample_weight_equivalence_on_sparse_data": "sparse input is rejected; see the dense check",
}


def _check_instances():
    for _, estimator_class in all_estimators():
        params = tiny_params(estimator_class)
        if "max_epochs" in params:
            params.update(learning_rate=0.03, max_epochs=20, batch_size=32, random_state=0)
        yield estimator_class(**params)


def _expected_failed_checks(estimator):
    if hasattr(estimator, "net_") or "max_epochs" in estimator.get_params():
        return NETWORK_EXPECTED_FAILURES
    return {}


@parametrize_with_checks(list(_check_instances()), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
