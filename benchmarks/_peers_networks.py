"""The peers' versions of ``_reference.NETWORKS``: how DeepCTR-Torch and torch-rechub build each network.

:func:`deepctr_model` and :func:`rechub_model` build a peer's model of one network from
the label-encoded columns, with the shared settings of ``_reference`` (embedding
``EMBEDDING_DIM``, MLP ``HIDDEN_UNITS`` with batch norm where the peer's API has it, no
dropout, no L2) and the network's own settings (``_reference.NETWORKS``; the behaviour
networks are built in ``_peers_sequence.py``). :data:`PEER_NETWORKS` says which networks
each peer has. :data:`DIFFERENCES` says, network by
network, what differs in each peer's version from sklearn_pangu's where the peer's API
leaves no choice; ``bench_peers`` prints it under its tables.

These functions run in the peers' environment (``.bench-venv``): they import
``deepctr_torch`` and ``torch_rechub`` inside.
"""

from __future__ import annotations

import _reference
import numpy as np

#: The networks each peer implements, behaviour networks included (the others are skipped
#: with "the library has no such network").
PEER_NETWORKS = {
    "deepctr_torch": {
        "deepfm", "dcn", "xdeepfm", "mmoe", "widedeep", "nfm", "afm", "afn", "autoint", "ccpm",
        "fibinet", "dcnv2", "sharebottom", "esmm", "ple", "din", "dien",
    },
    "torch_rechub": {
        "deepfm", "dcn", "mmoe", "widedeep", "afm", "autoint", "fibinet", "dcnv2", "sharebottom",
        "esmm", "ple", "aitm", "din", "dien", "bst",
    },
}  # fmt: skip

#: Each network's own settings, in words (``_reference.NETWORKS``).
SETTINGS = {
    "dcn": "with 3 cross layers",
    "xdeepfm": "with CIN 64-64 (split half)",
    "mmoe": "with 8 experts, a softmax gate and a tower 64 per task",
    "afm": "with attention size 16",
    "afn": "with 256 logarithmic neurons and no ensemble DNN",
    "autoint": "with 3 interacting layers of 2 heads of 8, residual, and the MLP",
    "ccpm": "with convolutions of widths 6 and 5, 4 feature maps each",
    "fibinet": "with one bilinear matrix per field pair (field_interaction) and SENET reduction 3",
    "dcnv2": "parallel, 2 cross layers, a mixture of 4 low-rank (32) experts",
    "sharebottom": "with a tower 64 per task",
    "esmm": "with towers 256-128",
    "ple": "with 2 levels of one shared and one task expert per task, a tower 64 per task",
    "aitm": "with task towers 256-128",
}

#: What differs from sklearn_pangu's network, by network and peer.
DIFFERENCES = {
    ("widedeep", "torch_rechub"): "its wide part is a linear layer over the 16-wide embeddings, not a "
    "first-order weight per index",
    ("nfm", "deepctr_torch"): "its MLP has no batch norm (the API has no switch), nor has its "
    "bi-interaction vector",
    ("afm", "deepctr_torch"): "its pairs are those of the categorical fields only (the API takes no "
    "dense ones); the dense values enter its linear part alone",
    ("afm", "torch_rechub"): "it forms no pairs: its attention is a softmax over a single score of "
    "FM's pooled vector (so every weight is 1), which makes it an FM with a projection, not AFM's "
    "network, and far cheaper; categorical fields only",
    ("afn", "deepctr_torch"): "its MLP has no batch norm (the API has no switch); its logarithmic "
    "neurons read the categorical fields only, the dense values enter its linear part alone",
    ("autoint", "torch_rechub"): "its output adds a linear layer over the flattened embeddings",
    ("ccpm", "deepctr_torch"): "an MLP 256-128 without batch norm reads the last feature maps (the API "
    "has no other output), where sklearn_pangu's, as the paper, has a logistic layer; it convolves "
    "the categorical fields only (the API takes no dense ones), the dense values enter its linear part alone",
    ("fibinet", "deepctr_torch"): "its MLP has no batch norm (the API has no switch); the dense values "
    "join the MLP's input unembedded",
    ("fibinet", "torch_rechub"): "it takes the categorical fields only (no dense features)",
    ("esmm", "torch_rechub"): "it takes the categorical fields only (no dense features)",
    ("aitm", "torch_rechub"): "its trainer adds no behavioural expectation calibrator to the loss",
    ("ple", "deepctr_torch"): "its gates have no bias",
    ("mmoe", "deepctr_torch"): "its gates have no bias",
    ("mmoe", "torch_rechub"): "its gates batch-normalize before the softmax; it averages the task "
    "losses where the others sum them",
}


def deepctr_model(network: str, codes: dict, values: dict, cardinalities: dict, n_tasks: int):
    """DeepCTR-Torch's model of ``network``, on CPU, seed 0."""
    from deepctr_torch import models
    from deepctr_torch.inputs import DenseFeat, SparseFeat

    own = _reference.NETWORKS[network][1]
    columns = [
        SparseFeat(c, vocabulary_size=n, embedding_dim=_reference.EMBEDDING_DIM)
        for c, n in cardinalities.items()
    ]
    sparse = list(columns)
    columns += [DenseFeat(c, 1) for c in values]
    shared = {"l2_reg_embedding": 0.0, "dnn_dropout": 0.0, "device": "cpu", "seed": 0}
    if network in _reference.MULTITASK:
        tasks = {
            "task_types": ("binary",) * n_tasks,
            "task_names": tuple(f"task_{t}" for t in range(n_tasks)),
            "tower_dnn_hidden_units": own["tower_units"],
            "l2_reg_dnn": 0.0,
            "dnn_use_bn": True,
        }
        if network == "mmoe":
            return models.MMOE(
                columns,
                num_experts=own["num_experts"],
                expert_dnn_hidden_units=own["expert_units"],
                gate_dnn_hidden_units=(),
                **tasks,
                **shared,
            )
        if network == "ple":
            return models.PLE(
                columns,
                shared_expert_num=own["num_shared_experts"],
                specific_expert_num=own["num_specific_experts"],
                num_levels=own["num_levels"],
                expert_dnn_hidden_units=own["expert_units"],
                gate_dnn_hidden_units=(),
                **tasks,
                **shared,
            )
        if network == "sharebottom":
            return models.SharedBottom(
                columns,
                bottom_dnn_hidden_units=own["bottom_units"],
                **tasks,
                **shared,
            )
        return models.ESMM(columns, **tasks, **shared)
    shared = {**shared, "l2_reg_linear": 0.0, "task": "binary"}
    mlp = {"dnn_hidden_units": _reference.HIDDEN_UNITS}
    with_bn = {**mlp, "dnn_use_bn": True}
    builders = {
        "deepfm": lambda: models.DeepFM(columns, columns, **with_bn, **shared),
        "dcn": lambda: models.DCN(
            columns, columns, cross_num=own["num_cross_layers"], l2_reg_cross=0.0, **with_bn, **shared
        ),
        "xdeepfm": lambda: models.xDeepFM(
            columns,
            columns,
            cin_layer_size=own["cin_units"],
            cin_split_half=own["cin_split_half"],
            **with_bn,
            **shared,
        ),
        "widedeep": lambda: models.WDL(columns, columns, **with_bn, **shared),
        "nfm": lambda: models.NFM(columns, columns, bi_dropout=0.0, **mlp, **shared),
        "afm": lambda: models.AFM(
            columns,
            sparse,
            attention_factor=own["attention_dim"],
            l2_reg_att=0.0,
            afm_dropout=0.0,
            **{k: v for k, v in shared.items() if k != "dnn_dropout"},
        ),
        "afn": lambda: models.AFN(
            columns,
            columns,
            ltl_hidden_size=own["num_logarithmic_neurons"],
            afn_dnn_hidden_units=_reference.HIDDEN_UNITS,
            **shared,
        ),
        "autoint": lambda: models.AutoInt(
            columns,
            columns,
            att_layer_num=own["num_attention_layers"],
            att_head_num=own["num_heads"],
            att_res=own["use_residual"],
            **with_bn,
            **{k: v for k, v in shared.items() if k != "l2_reg_linear"},
        ),
        "ccpm": lambda: models.CCPM(
            columns,
            sparse,
            conv_kernel_width=own["conv_kernel_widths"],
            conv_filters=own["conv_filters"],
            **mlp,
            **shared,
        ),
        "fibinet": lambda: models.FiBiNET(
            columns,
            columns,
            bilinear_type="interaction",
            reduction_ratio=own["reduction_ratio"],
            **mlp,
            **shared,
        ),
        "dcnv2": lambda: models.DCNMix(
            columns,
            columns,
            cross_num=own["num_cross_layers"],
            low_rank=own["low_rank"],
            num_experts=own["num_experts"],
            l2_reg_cross=0.0,
            **with_bn,
            **shared,
        ),
    }
    return builders[network]()


def rechub_model(network: str, cardinalities: dict, values: dict, n_tasks: int):
    """torch-rechub's model of ``network`` and the task types its ``MTLTrainer`` takes (None: ranking).

    ESMM's model has three outputs (CVR, CTR, CTCVR): the trainer fits the last two and
    :func:`rechub_outputs` keeps them.
    """
    from torch_rechub.basic.features import DenseFeature, SparseFeature
    from torch_rechub.models import multi_task, ranking

    own = _reference.NETWORKS[network][1]
    sparse = [
        SparseFeature(c, vocab_size=n, embed_dim=_reference.EMBEDDING_DIM) for c, n in cardinalities.items()
    ]
    dense = [DenseFeature(c) for c in values]
    mlp = {"dims": list(_reference.HIDDEN_UNITS), "dropout": 0.0, "activation": "relu"}
    if network in _reference.MULTITASK:
        tasks = ["classification"] * n_tasks

        def tower(units):
            return {"dims": list(units), "dropout": 0.0, "activation": "relu"}

        if network == "mmoe":
            towers = [tower(own["tower_units"])] * n_tasks
            return multi_task.MMOE(sparse + dense, tasks, own["num_experts"], mlp, towers), tasks
        if network == "ple":
            model = multi_task.PLE(
                sparse + dense,
                tasks,
                n_level=own["num_levels"],
                n_expert_specific=own["num_specific_experts"],
                n_expert_shared=own["num_shared_experts"],
                expert_params=tower(own["expert_units"]),
                tower_params_list=[tower(own["tower_units"])] * n_tasks,
            )
            return model, tasks
        if network == "sharebottom":
            model = multi_task.SharedBottom(
                sparse + dense, tasks, tower(own["bottom_units"]), [tower(own["tower_units"])] * n_tasks
            )
            return model, tasks
        if network == "aitm":
            # sklearn_pangu's task towers are torch-rechub's bottoms; the output layer is its tower.
            towers = [tower(())] * n_tasks
            return multi_task.AITM(sparse + dense, n_tasks, tower(own["tower_units"]), towers), tasks
        half = len(sparse) // 2
        towers = tower(own["tower_units"])
        return multi_task.ESMM(sparse[:half], sparse[half:], towers, towers), ["classification"] * 3
    builders = {
        "deepfm": lambda: ranking.DeepFM(deep_features=sparse + dense, fm_features=sparse, mlp_params=mlp),
        "dcn": lambda: ranking.DCN(sparse + dense, n_cross_layers=own["num_cross_layers"], mlp_params=mlp),
        "widedeep": lambda: ranking.WideDeep(sparse + dense, sparse + dense, mlp),
        "afm": lambda: ranking.AFM(sparse, _reference.EMBEDDING_DIM, t=own["attention_dim"]),
        "autoint": lambda: ranking.AutoInt(
            sparse, dense, num_layers=own["num_attention_layers"], num_heads=own["num_heads"], mlp_params=mlp
        ),
        "fibinet": lambda: ranking.FiBiNet(
            sparse, mlp, reduction_ratio=own["reduction_ratio"], bilinear_type="field_interaction"
        ),
        "dcnv2": lambda: ranking.DCNv2(
            sparse + dense,
            n_cross_layers=own["num_cross_layers"],
            mlp_params=mlp,
            model_structure="parallel",
            use_low_rank_mixture=True,
            low_rank=own["low_rank"],
            num_experts=own["num_experts"],
        ),
    }
    return builders[network](), None


def rechub_labels(network: str, labels):
    """The label columns torch-rechub's trainer fits: ESMM's are CVR (unused), CTR and CTCVR."""
    if network == "esmm":
        return np.column_stack([labels[:, 1], labels[:, 0], labels[:, 1]])
    return labels


def rechub_outputs(network: str, predictions):
    """The predictions in the label columns' order: ESMM's CTR and CTCVR."""
    return predictions[:, 1:] if network == "esmm" else predictions


def settings(networks) -> str:
    """The own settings of ``networks``, as one clause for the tables' notes."""
    return "; ".join(f"{_reference.NAMES[n]} {SETTINGS[n]}" for n in networks if n in SETTINGS)


def notes(networks) -> str:
    """What differs in each peer's version of ``networks``, as a list for the tables' notes."""
    lines = [
        f"- {_reference.NAMES[network]}, {label}: {DIFFERENCES[network, peer]}."
        for network in networks
        for peer, label in (("deepctr_torch", "DeepCTR-Torch"), ("torch_rechub", "torch-rechub"))
        if (network, peer) in DIFFERENCES
    ]
    return "\n\nWhat differs, where the peers' APIs leave no choice:\n" + "\n".join(lines) if lines else ""
