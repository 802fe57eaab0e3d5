"""Parameter and attribute descriptions shared by the estimators' docstrings.

A docstring writes ``{embedding_dim}`` (say) where a shared description belongs;
:func:`fill_shared_docs` puts it in, so each description is written once.
"""

from __future__ import annotations

import inspect

SHARED_DOCS = {
    "embedding_dim": """embedding_dim : int, default={embedding_dim_default}
        Size of the vector each field is embedded into.""",
    "hidden_units": """hidden_units : tuple of int, default=(400, 400, 400)
        Width of each hidden layer of the deep component.""",
    "dropout": """dropout : float, default=0.2
        Dropout probability after each hidden layer.""",
    "batch_norm": """batch_norm : bool, default=True
        Whether to batch-normalize each hidden layer.""",
    "embedding_l2": """embedding_l2 : float, default={embedding_l2_default}
        Weight of the L2 penalty added to each training batch's loss: the sum of
        the squared norms of the distinct embedding rows the batch looks up (each
        once) and of the dense features' vectors. First-order weights are not
        penalized. ``train_loss`` in the history includes it; ``valid_loss`` does not.""",
    "training": """learning_rate : float, default={learning_rate}
        Learning rate of the optimizer at the start of each call to ``fit``.
    learning_rate_decay : float, default={learning_rate_decay}
        With early stopping, the learning rate is multiplied by this factor after
        each epoch whose validation ROC AUC is not a new best (``1.0`` keeps it
        constant). The history records each epoch's ``lr``.
    optimizer : {'adam', 'adamw', 'adagrad', 'rmsprop', 'sgd'} or torch optimizer class, default='adam'
        Optimizer over all parameters. With dense gradients on the CPU and CUDA,
        ``'adam'`` and ``'adamw'`` run torch's fused implementation (``fused=True``:
        one kernel per step); a class such as ``torch.optim.Adam`` is used with
        torch's defaults.
    sparse_embeddings : bool, default=False
        Whether the embedding tables get sparse gradients: each step then touches
        only the rows its batch looked up, instead of every row of every table,
        which speeds up training when the tables are large (many distinct ids).
        ``'adam'`` becomes lazy Adam (the moments of rows absent from a batch are
        not decayed, as in :class:`torch.optim.SparseAdam`); ``'adagrad'`` and
        ``'sgd'`` take sparse gradients as they are; ``'adamw'`` and ``'rmsprop'``
        cannot and raise an error. A torch optimizer class must accept sparse
        gradients. See the scaling guide for its measured speed and quality.
    batch_size : int, default=1024
        Rows per training batch.
    predict_batch_size : 'auto' or int, default='auto'
        Rows per forward pass when predicting and in the validation pass of early
        stopping; the memory a pass needs grows with it. ``'auto'`` is 1,024 rows on
        the CPU, where larger batches measured slower for every model tried, and
        16,384 on a GPU. On the CPU a row's prediction has the same bits whatever the
        batch size.
    max_epochs : int, default=100
        Largest number of passes over the training data in one call to ``fit``.
    early_stopping : 'auto' or bool, default='auto'
        Whether to hold out ``validation_fraction`` of the training data (stratified)
        and stop when the validation ROC AUC has not improved for
        ``n_iter_no_change`` epochs, restoring the weights of the best epoch.
        ``'auto'`` turns it on when there are more than 10,000 samples.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    n_iter_no_change : int, default=3
        Epochs without improvement of the validation ROC AUC before stopping.
    categorical_features : 'from_dtype', array-like of str or int, or array-like of bool, default='from_dtype'
        Which columns are categorical (see
        :class:`~sklearn_pangu.preprocessing.FeatureEncoder`). With ``'from_dtype'``,
        object, string, category and bool columns are; numeric columns are dense
        features. Name integer id columns here to embed them.
    numeric_encoding : str or dict, default='scale_and_bucket'
        How numeric columns enter the model (see
        :class:`~sklearn_pangu.preprocessing.FeatureEncoder`): ``'scale'``, a
        standardized dense feature; ``'bucket'``, a categorical field of up to
        ``n_bins`` quantile buckets learned at fit, with a value that holds at
        least ``1 / n_bins`` of the column (the zero of a mostly-zero column) in a
        bucket of its own; ``'scale_and_bucket'``, both (on census, every model at
        or above gradient boosting; see the encoding guide); ``'piecewise_linear'``,
        the piecewise-linear code over those buckets (Gorishniy et al., NeurIPS
        2022), one field per column. A dict sets it by column name; a numeric
        column not named gets ``'scale'``.
    n_bins : int, default=32
        Most buckets of a bucketed numeric column.
    multi_value_features : None, list of str or dict of str to str, default=None
        Which columns are list (multi-value) columns, such as a movie's genres or
        the items a user clicked before. None finds them from the data: object
        columns whose cells are lists, tuples or 1-D arrays, and pyarrow list
        columns. A list of names declares list-cell columns; a dict such as
        ``{"genres": "|"}`` declares columns of text delimited by that string. A
        list column is one more field of the model: the embeddings of its items
        pooled by ``sequence_pooling``. See the user guide "Lists and behaviour
        sequences".
    max_sequence_length : int or dict of str to int, default=50
        Most items a row of a list column keeps: one number for every list column,
        or one per column name (a column not named keeps 50). A longer list keeps
        its **last** items, the most recent ones when a list is in time order.
    shared_vocabulary : dict of str to str, default=None
        Columns that share one vocabulary and one embedding table, e.g.
        ``{"history": "movie_id"}`` for a user's past movies and the movie being
        scored; pairs that share a column form one group. Each named column must
        be a categorical or list column of ``X``.
    sequence_pooling : {'mean', 'sum', 'max'}, default='mean'
        How the item embeddings of a list field pool into the field's vector;
        empty slots never count, and a row without items gets zeros. ``'max'``
        cannot be combined with ``sparse_embeddings=True``.
    device : str, default='cpu'
        Torch device to train and predict on: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...
        A model trained on a GPU loads and predicts on a CPU-only machine.
    mixed_precision : {'bfloat16'} or None, default=None
        ``'bfloat16'`` runs the network's forward pass (training and prediction)
        under :func:`torch.autocast` in bfloat16 on ``device``; the weights, the
        gradients, the optimizer state and the loss stay float32. It pays off on
        GPUs since Ampere and on CPUs with AVX-512 BF16 or AMX; elsewhere it is
        emulated and slower. Predictions differ from float32 ones in the third
        significant digit or so.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted network (and keeps the
        fitted encoder) for up to ``max_epochs`` more epochs. A changed
        architecture parameter, ``sequence_pooling``, encoder parameter
        (``categorical_features``, ``numeric_encoding``, ``n_bins``, ``multi_value_features``,
        ``max_sequence_length``, ``shared_vocabulary``) or optimizer is then a
        ``ValueError`` naming it.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the weight initialization, dropout and the
        shuffling. An int gives identical predictions on the same data on CPU.
    verbose : int, default=0
        ``1`` prints one line per epoch: losses, validation AUC and seconds.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances, classes or ``(name, callback)`` pairs),
        added after the built-in ones.""",
    "attributes": """classes_ : ndarray of shape (2,)
        Class labels.
    encoder_ : FeatureEncoder
        The fitted feature encoder.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_auc`` and ``dur``.
    n_iter_ : int
        Epochs run by the last call to ``fit``.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.""",
    "tower_units": """tower_units : tuple of int, default=(64,)
        Hidden layers of each task's tower, which ends in the task's logit.""",
    "task_weights": """task_weights : array-like of shape (n_tasks,) or None, default=None
        Weight of each task's loss in the training loss (their weighted sum); None
        weighs every task 1. Early stopping follows the mean validation ROC AUC of
        the tasks, whatever the weights.""",
    "multitask_attributes": """classes_ : list of ndarray of shape (2,)
        Labels of each task, in the order of ``task_names_``.
    task_names_ : list of str
        Task names: the columns of ``Y`` when it is a DataFrame, else
        ``task_0``, ``task_1``, ...
    encoder_ : FeatureEncoder
        The fitted feature encoder.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_auc`` (mean over the tasks),
        and per task ``train_loss_<task>``, ``valid_loss_<task>``, ``valid_auc_<task>``.
    n_iter_ : int
        Epochs run by the last call to ``fit``.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.""",
}


def fill_shared_docs(cls: type) -> type:
    """Class decorator that fills the ``{name}`` placeholders of ``cls.__doc__``.

    A shared description that names a default the estimators do not share (the
    learning rate and its decay, the embedding size and its L2 penalty) gets the one
    in ``cls.__init__``'s signature.
    """
    parameters = inspect.signature(cls.__init__).parameters
    shared = dict(SHARED_DOCS)
    defaults = {
        "{learning_rate}": f"{parameters['learning_rate'].default:g}",
        "{learning_rate_decay}": repr(parameters["learning_rate_decay"].default),
    }
    if "embedding_dim" in parameters:
        defaults["{embedding_dim_default}"] = str(parameters["embedding_dim"].default)
    if "embedding_l2" in parameters:
        defaults["{embedding_l2_default}"] = f"{parameters['embedding_l2'].default:g}"
    for placeholder, default in defaults.items():
        shared = {key: text.replace(placeholder, default) for key, text in shared.items()}
    cls.__doc__ = cls.__doc__.format(**shared)
    return cls
