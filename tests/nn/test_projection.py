"""projected_linear, projecting and MLP's projected first layer (``sklearn_pangu.nn._projection``)."""

import numpy as np
import pytest
import torch
from torch import nn

import sklearn_pangu
from sklearn_pangu.nn import MLP, FieldEmbedding, _projection, projected_linear, projecting


def _embedding(**kwargs) -> FieldEmbedding:
    torch.manual_seed(0)
    defaults = dict(cardinalities=[5, 7, 7], n_dense=4, embedding_dim=3, init_std=1.0)
    return FieldEmbedding(**{**defaults, **kwargs}).eval()


def _batch(embedding: FieldEmbedding, n_rows: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    cardinalities = embedding._cardinalities
    columns = [torch.randint(0, c, (n_rows,), generator=generator) for c in cardinalities]
    codes = torch.stack(columns, 1) if columns else torch.zeros((n_rows, 0), dtype=torch.long)
    return codes.int(), torch.randn(n_rows, embedding.n_dense, generator=generator)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"shared_tables": [0, 1, 1]},
        {"dense_fields": [0, 0, 1, 2]},
        {"n_dense": 0},
        {"budget": 7 * 6},
        {"budget": 12 * 6, "shared_tables": [0, 1, 1]},
    ],
    ids=[
        "own tables",
        "shared tables",
        "pieces of one column",
        "no dense",
        "the smallest field projected",
        "two of three fields projected",
    ],
)
def test_projected_linear_equals_the_layer_on_the_flattened_vectors(kwargs, monkeypatch):
    if "budget" in kwargs:
        monkeypatch.setattr(_projection, "PROJECTION_MAX_ELEMENTS", kwargs.pop("budget"))
    embedding = _embedding(cardinalities=[7, 5, 5] if "shared_tables" not in kwargs else [5, 7, 7], **kwargs)
    linear = nn.Linear(embedding.n_fields * embedding.embedding_dim, 6).eval()
    codes, dense = _batch(embedding)
    with torch.no_grad(), projecting(embedding):
        vectors = embedding(codes, dense).flatten(1)
        projected = projected_linear(embedding, linear, codes, dense, vectors)
        expected = linear(vectors)
        one_row = projected_linear(embedding, linear, codes[4:5], dense[4:5], vectors[4:5])
    assert projected is not None and projected.shape == (9, 6)
    torch.testing.assert_close(projected, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(one_row, projected[4:5], rtol=1e-6, atol=1e-6)


def test_projected_linear_applies_only_in_inference_within_projecting(monkeypatch):
    embedding = _embedding()
    linear = nn.Linear(embedding.n_fields * embedding.embedding_dim, 6).eval()
    codes, dense = _batch(embedding)
    vectors = embedding(codes, dense).flatten(1).detach()
    with torch.no_grad():
        assert projected_linear(embedding, linear, codes, dense, vectors) is None  # outside projecting
    with projecting(embedding):
        assert projected_linear(embedding, linear, codes, dense, vectors) is None  # gradients on
        with torch.no_grad():
            embedding.train()
            assert projected_linear(embedding, linear, codes, dense, vectors) is None
            embedding.eval()
            assert projected_linear(embedding, linear, codes, dense, vectors) is not None
            monkeypatch.setattr(_projection, "PROJECTION_MAX_ELEMENTS", 5 * 6 - 1)
            assert projected_linear(embedding, linear, codes, dense, vectors) is None  # no field fits
            other = nn.Linear(embedding.n_fields * embedding.embedding_dim + 1, 6).eval()
            assert projected_linear(embedding, other, codes, dense, vectors) is None
            only_dense = _embedding(cardinalities=[])
            assert projected_linear(only_dense, linear, codes[:, :0], dense, vectors) is None
    assert embedding._projecting == 0


def test_projected_linear_leaves_list_fields_to_the_layer():
    embedding = FieldEmbedding([5, 5], 0, 4, sequence_lengths=[0, 3], shared_tables=[0, 0]).eval()
    linear = nn.Linear(8, 2).eval()
    with torch.no_grad(), projecting(embedding):
        codes, dense = torch.tensor([[4, 1, 3, -1]]), torch.zeros(1, 0)
        vectors = embedding(codes, dense).flatten(1)
        assert projected_linear(embedding, linear, codes, dense, vectors) is None


@pytest.mark.parametrize("change", ["optimizer step", "fused optimizer step", "load_state_dict"])
def test_projected_table_follows_the_weights(change):
    embedding = _embedding()
    linear = nn.Linear(embedding.n_fields * embedding.embedding_dim, 6).eval()
    codes, dense = _batch(embedding)
    with projecting(embedding):
        with torch.no_grad():
            before = projected_linear(embedding, linear, codes, dense, embedding(codes, dense).flatten(1))
        parameters = [*embedding.parameters(), *linear.parameters()]
        if change == "load_state_dict":
            state = {name: value + 1 for name, value in linear.state_dict().items()}
            linear.load_state_dict(state)
        else:
            fused = change.startswith("fused")
            optimizer = torch.optim.Adam(parameters, lr=0.1, fused=fused)
            linear(embedding(codes, dense).flatten(1)).square().sum().backward()
            optimizer.step()
            if fused:  # fused kernels do not count their updates; training loops must
                torch.autograd.graph.increment_version(parameters)
        with torch.no_grad():
            vectors = embedding(codes, dense).flatten(1)
            after = projected_linear(embedding, linear, codes, dense, vectors)
            expected = linear(vectors)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected, rtol=1e-5, atol=1e-5)


def test_mlp_with_fields_computes_the_same_and_calls_its_hooks():
    embedding = _embedding()
    mlp = MLP(embedding.n_fields * embedding.embedding_dim, (8, 4), batch_norm=True, output_dim=1).eval()
    codes, dense = _batch(embedding)
    outputs = []
    mlp.register_forward_hook(lambda module, args, output: outputs.append(output))
    with torch.no_grad(), projecting(embedding):
        vectors = embedding(codes, dense).flatten(1)
        projected = mlp(vectors, fields=(embedding, codes, dense))
        plain = mlp(vectors)
    torch.testing.assert_close(projected, plain, rtol=1e-5, atol=1e-6)
    assert len(outputs) == 2 and outputs[0] is projected
    assert MLP(6, ())(torch.ones(2, 6), fields=(embedding, codes, dense)).shape == (2, 6)


@pytest.mark.parametrize(
    "estimator_class",
    [sklearn_pangu.DeepFMClassifier, sklearn_pangu.DCNClassifier, sklearn_pangu.ShareBottomMultiOutput],
)
def test_predictions_follow_the_trained_weights(estimator_class, tiny, ctr_data):
    """Predictions from projected tables equal the plain network's, after a fit and after more training."""
    X, y = ctr_data
    if estimator_class is sklearn_pangu.ShareBottomMultiOutput:
        y = np.column_stack([y, 1 - y])
    model = tiny(estimator_class, max_epochs=2).fit(X, y)

    def plain_logits() -> np.ndarray:
        codes, dense = model.encoder_.encode(X)
        module = model.net_.module_.eval()
        with torch.no_grad():
            return module(torch.as_tensor(codes), torch.as_tensor(dense)).double().numpy()

    for _ in range(2):
        np.testing.assert_allclose(model._raw_outputs(X), plain_logits(), rtol=1e-5, atol=1e-6)
        model.partial_fit(X, y)
