"""The training data as skorch sees it: encoded rows held as whole tensors, served in slices.

Every class here is top-level and picklable: a fitted estimator pickles its skorch
net, and with it the iterators and the split it was given.
"""

from __future__ import annotations

import torch


class EncodedDataset(torch.utils.data.Dataset):
    """Encoded rows held as whole tensors; a batch is a slice, not a collated list.

    Parameters
    ----------
    codes : Tensor of shape (n_samples, n_code_columns), dtype int32 or int64
        Embedding indices within each field.
    dense : Tensor of shape (n_samples, n_dense), dtype float32
        Dense features.
    target : Tensor of shape (n_samples,), dtype float32, default=None
        Labels in {0, 1}; None for prediction.
    weight : Tensor of shape (n_samples,), dtype float32, default=None
        Per-sample loss weights.
    rows : Tensor of shape (n_rows,), dtype int64, default=None
        The rows of the tensors this dataset holds, in order; None for all of them.
        :meth:`subset` sets it, so that the training and validation sets of a fit
        share the encoded tensors instead of copying them.
    """

    def __init__(self, codes, dense, target=None, weight=None, rows=None) -> None:
        self.codes = codes
        self.dense = dense
        self.target = target
        self.weight = weight
        self.rows = rows

    def __len__(self) -> int:
        return self.codes.shape[0] if self.rows is None else self.rows.shape[0]

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        """Return ``(X, y)`` for the rows selected by a slice or an index tensor."""
        if self.rows is not None:
            index = self.rows[index]
        X = {"codes": self.codes[index], "dense": self.dense[index]}
        if self.target is None:
            return X, None
        y = {"target": self.target[index]}
        if self.weight is not None:
            y["weight"] = self.weight[index]
        return X, y

    def subset(self, index) -> EncodedDataset:
        """Return the rows at ``index`` as a dataset that shares this one's tensors."""
        pick = torch.as_tensor(index, dtype=torch.long)
        rows = pick if self.rows is None else self.rows[pick]
        return EncodedDataset(self.codes, self.dense, self.target, self.weight, rows=rows)


class BatchIterator:
    """Yield batches of an :class:`EncodedDataset` by slicing its tensors.

    With ``shuffle=True`` rows are drawn in a new random order each epoch from
    torch's global generator, which the estimator seeds; a last batch of a single
    row joins the one before it, since batch normalization cannot train on it.
    """

    def __init__(self, dataset: EncodedDataset, batch_size: int, shuffle: bool = False) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def _bounds(self) -> list[tuple[int, int]]:
        n_rows = len(self.dataset)
        starts = list(range(0, n_rows, self.batch_size))
        bounds = [(start, min(start + self.batch_size, n_rows)) for start in starts]
        if self.shuffle and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            bounds[-2:] = [(bounds[-2][0], n_rows)]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(len(self.dataset))
            for start, stop in self._bounds():
                yield self.dataset.batch(order[start:stop])
        else:
            for start, stop in self._bounds():
                yield self.dataset.batch(slice(start, stop))


class FixedValidationSplit:
    """A skorch ``train_split`` that returns a validation set chosen beforehand."""

    def __init__(self, valid_dataset: EncodedDataset) -> None:
        self.valid_dataset = valid_dataset

    def __call__(self, dataset, y=None, **fit_params):
        return dataset, self.valid_dataset
