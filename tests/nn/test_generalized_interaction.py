"""GeneralizedInteraction and its network (``sklearn_pangu.nn._generalized_interaction``), AOANet's."""

import torch

from sklearn_pangu.nn._generalized_interaction import GeneralizedInteraction, GeneralizedInteractionNet


def _gin_layer_by_definition(layer, x0, b):
    """b'_k = h_k^T (W_k * sum_ij alpha_ijk outer(x_i, b_j)), with explicit outer products."""
    batch, n_fields, dim = x0.shape
    out = torch.zeros(batch, layer.W.shape[0], dim, dtype=x0.dtype)
    for k in range(layer.W.shape[0]):
        fused = torch.zeros(batch, dim, dim, dtype=x0.dtype)
        for i in range(n_fields):
            for j in range(b.shape[1]):
                fused = fused + layer.alpha[i, j, k] * torch.einsum("br,be->bre", x0[:, i], b[:, j])
        out[:, k] = torch.einsum("r,bre->be", layer.h[k], layer.W[k] * fused)
    return out


def test_generalized_interaction_equals_its_definition():
    torch.manual_seed(0)
    layer = GeneralizedInteraction(3, input_subspaces=2, output_subspaces=4, embedding_dim=5).double()
    with torch.no_grad():
        for param in layer.parameters():
            param.normal_()
    x0 = torch.randn(6, 3, 5, dtype=torch.float64)
    b = torch.randn(6, 2, 5, dtype=torch.float64)
    out = layer(x0, b)
    assert out.shape == (6, 4, 5)
    torch.testing.assert_close(out, _gin_layer_by_definition(layer, x0, b))


def test_generalized_interaction_starts_as_elementwise_product():
    # W = I, h = 1, alpha = 1: every subspace is sum_ij x_i * b_j = (sum_i x_i) * (sum_j b_j).
    layer = GeneralizedInteraction(3, input_subspaces=2, output_subspaces=2, embedding_dim=2)
    x0 = torch.tensor([[[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]]])
    b = torch.tensor([[[1.0, -1.0], [2.0, 0.5]]])
    expected = torch.tensor([4.0, 3.0]) * torch.tensor([3.0, -0.5])
    torch.testing.assert_close(layer(x0, b), expected.expand(1, 2, 2))


def test_generalized_interaction_net_shape_gradients_and_parameters(assert_gradients_reach):
    torch.manual_seed(0)
    gin = GeneralizedInteractionNet(5, embedding_dim=4, num_layers=3, num_subspaces=2)
    x0 = torch.randn(7, 5, 4)
    assert gin(x0).shape == (7, 2, 4)
    assert_gradients_reach(gin, (gin(x0) * torch.randn(7, 2, 4)).sum())
    per_layer = 2 * 4 * 4 + 2 * 4  # W_k and h_k of each output subspace
    assert sum(p.numel() for p in gin.parameters()) == 3 * per_layer + 5 * 5 * 2 + 2 * (5 * 2 * 2)
