"""sklearn_pangu.io: saving replaces the file whole or not at all, and loading refuses a damaged file.

Saving writes a temporary file beside the target and renames it into place, so a
failed save (a file size limit, a full disk, an interrupt, a killed process) leaves
the previous file loadable. Every member of the file has a SHA-256 checksum, which
loading verifies: a flipped bit gives ``ModelFileError``, or a model that predicts
exactly as the saved one when the bit was in bytes that nothing reads.
"""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu.datasets import load_census_income, make_ctr_classification
from sklearn_pangu.io import ModelFileError, load, save
from sklearn_pangu.io._integrity import CHECKSUMS_KEY, member_checksums

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ranking():
    X, y = make_ctr_classification(n_samples=300, random_state=0)
    model = DeepFMClassifier(
        embedding_dim=4, hidden_units=(8,), batch_size=64, max_epochs=2, random_state=0
    ).fit(X, y)
    return model, X


@pytest.fixture(scope="module")
def multitask():
    X, Y = load_census_income(return_X_y=True)
    X, Y = X[:300], Y[:300]
    model = MMOEMultiOutput(
        embedding_dim=4,
        num_experts=2,
        expert_units=(8,),
        tower_units=(4,),
        batch_size=64,
        max_epochs=2,
        random_state=0,
    ).fit(X, Y)
    return model, X


def assert_predicts_the_same_bits(model, expected, X):
    """``expected`` is a ``predict_proba`` answer: an array, or a list of them for multi-task models."""
    np.testing.assert_array_equal(np.asarray(model.predict_proba(X)), np.asarray(expected))


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


# ------------------------------------------------------- failures in a child process
CHILD = r"""
import json, os, resource, signal, sys
import torch
from sklearn_pangu.io import load, save

target, replacement, how = sys.argv[1:]
model = load(replacement)
if how == "file size limit":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = os.path.getsize(replacement) // 2
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
elif how == "killed while writing":
    real_save = torch.save

    class Killer:
        # The process dies once a few kilobytes of the new model are written.
        def __init__(self, file):
            self.file, self.written = file, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 8192:
                os.kill(os.getpid(), signal.SIGKILL)
            return self.file.write(data)

        def flush(self):
            self.file.flush()

    def killing_save(obj, f):
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as file:
                real_save(obj, Killer(file))
        else:
            real_save(obj, Killer(f))

    torch.save = killing_save
elif how == "killed before the rename":
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
try:
    save(model, target)
except BaseException as exc:
    cause = exc.__cause__
    print(json.dumps({
        "type": type(exc).__name__, "message": str(exc), "errno": getattr(exc, "errno", None),
        "cause": repr(cause), "cause_errno": getattr(cause, "errno", None),
    }))
else:
    print(json.dumps({"type": None}))
"""


def save_in_child(target: Path, replacement, how: str) -> subprocess.CompletedProcess:
    """Save ``replacement`` over ``target`` in a new Python process that fails as ``how`` says."""
    source = target.with_name("replacement.pt")
    save(replacement, source)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(target), str(source), how],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_save_past_the_file_size_limit_keeps_the_previous_file(ranking, multitask, tmp_path):
    old, X = multitask
    larger, _ = ranking
    target = tmp_path / "model.pt"
    save(old, target)
    before = target.read_bytes()
    child = save_in_child(target, larger, "file size limit")
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["type"] == "OSError" and result["errno"] == errno.EFBIG, result
    assert result["cause_errno"] == errno.EFBIG, result
    message = result["message"]
    assert str(target) in message and "[Errno 27] File too large" in message, message
    assert "previous file" in message and "unchanged" in message, message
    assert target.read_bytes() == before
    assert_predicts_the_same_bits(load(target), old.predict_proba(X), X)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("how", ["killed while writing", "killed before the rename"])
def test_a_save_killed_midway_leaves_the_previous_file_loadable(how, ranking, multitask, tmp_path):
    old, X = ranking
    other, _ = multitask
    target = tmp_path / "model.pt"
    save(old, target)
    before = target.read_bytes()
    child = save_in_child(target, other, how)
    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)
    assert target.read_bytes() == before
    assert_predicts_the_same_bits(load(target), old.predict_proba(X), X)
    # A killed process cannot remove its temporary file: it stays, under a name that says what it is.
    (left,) = leftovers(tmp_path)
    assert left.startswith(".model.pt.")


# --------------------------------------------------------- failures in this process
class FailingFile:
    """A file whose writes fail with ``error`` once ``after`` bytes are written."""

    def __init__(self, file, error: BaseException, after: int) -> None:
        self.file, self.error, self.after, self.written = file, error, after, 0

    def write(self, data) -> int:
        if self.written + len(data) > self.after:
            raise self.error
        self.written += len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


def fail_writes(monkeypatch, error: BaseException, after: int) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *args, **kw: FailingFile(real_fdopen(*args, **kw), error, after))


@pytest.mark.parametrize(
    "error, after",
    [
        (OSError(errno.ENOSPC, "No space left on device"), 0),  # torch sees it at its first write
        (OSError(errno.ENOSPC, "No space left on device"), 20000),  # torch turns it into its own error
        (OSError(errno.EIO, "Input/output error"), 20000),
    ],
)
def test_a_failing_write_keeps_the_previous_file_and_names_path_and_cause(
    error, after, ranking, multitask, monkeypatch, tmp_path
):
    old, X = ranking
    target = tmp_path / "model.pt"
    save(old, target)
    before = target.read_bytes()
    fail_writes(monkeypatch, error, after)
    with pytest.raises(OSError) as info:
        save(multitask[0], target)
    message = str(info.value)
    assert info.value.errno == error.errno and info.value.__cause__ is error
    assert str(target) in message and str(error) in message and "unchanged" in message, message
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []
    assert_predicts_the_same_bits(load(target), old.predict_proba(X), X)


def test_an_interrupted_save_keeps_the_previous_file(ranking, multitask, monkeypatch, tmp_path):
    old, _ = ranking
    target = tmp_path / "model.pt"
    save(old, target)
    before = target.read_bytes()
    fail_writes(monkeypatch, KeyboardInterrupt(), 20000)
    with pytest.raises(KeyboardInterrupt) as info:
        save(multitask[0], target)
    if sys.version_info >= (3, 11):
        assert any(str(target) in note and "unchanged" in note for note in info.value.__notes__)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_failing_serialiser_keeps_the_previous_file(ranking, multitask, monkeypatch, tmp_path):
    old, _ = ranking
    target = tmp_path / "model.pt"
    save(old, target)
    before = target.read_bytes()
    boom = RuntimeError("cannot serialise this")

    def broken_save(obj, f):
        if isinstance(f, (str, os.PathLike)):
            Path(f).write_bytes(b"partial")
        else:
            f.write(b"partial")
        raise boom

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="cannot serialise this") as info:
        save(multitask[0], target)
    assert str(target) in str(info.value) and "unchanged" in str(info.value)
    assert info.value.__cause__ is boom
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_failed_first_save_creates_no_file(ranking, monkeypatch, tmp_path):
    fail_writes(monkeypatch, OSError(errno.ENOSPC, "No space left on device"), 20000)
    target = tmp_path / "model.pt"
    with pytest.raises(OSError, match="No space left on device") as info:
        save(ranking[0], target)
    assert "no file was created" in str(info.value)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------- bit flips
def flip(data: bytes, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def load_flipped(data: bytes, bit: int, path: Path):
    path.write_bytes(flip(data, bit))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged file must not pass as an old one that warns
        return load(path)


def targeted_bits(model, path: Path):
    """Bits inside the metadata JSON, a weight tensor and a checksum, with the member each must name."""
    data = path.read_bytes()
    means = data.find(b'"data":[', data.find(b'"mean_":'))
    digit = next(i for i in range(means, len(data)) if data[i : i + 1].isdigit())
    yield digit * 8, "meta"  # the low bit of a digit of the encoder's first mean: another digit
    name, weight = max(model.net_.module_.state_dict().items(), key=lambda item: item[1].numel())
    weights = data.find(weight.numpy().tobytes())
    assert weights >= 0
    yield (weights + weight.numel() * weight.element_size() // 2) * 8 + 5, f"modules/module/{name}"
    checksum = data.find(torch.load(path, weights_only=True)[CHECKSUMS_KEY]["meta"].encode())
    assert checksum >= 0
    yield (checksum + 10) * 8, "meta"


@pytest.mark.parametrize("which, n_random", [("ranking", 150), ("multitask", 60)])
def test_a_flipped_bit_is_refused_or_harmless(which, n_random, request, tmp_path):
    model, X = request.getfixturevalue(which)
    expected = model.predict_proba(X)
    path, damaged = tmp_path / "model.pt", tmp_path / "damaged.pt"
    save(model, path)
    data = path.read_bytes()
    for bit, member in targeted_bits(model, path):
        with pytest.raises(ModelFileError, match="corrupted") as info:
            load_flipped(data, bit, damaged)
        assert f"member {member!r} does not match its checksum" in str(info.value)
    refused = 0
    for bit in random.Random(0).sample(range(len(data) * 8), n_random):
        try:
            loaded = load_flipped(data, bit, damaged)
        except ModelFileError as exc:
            assert "corrupt" in str(exc) or "damaged" in str(exc), (bit, str(exc))
            refused += 1
        else:
            assert_predicts_the_same_bits(loaded, expected, X)
    assert refused > n_random // 2


@pytest.mark.parametrize("keep", [0, 1, 100, 1000, "half", -22, -1])
def test_a_truncated_file_is_refused(keep, ranking, tmp_path):
    path = tmp_path / "model.pt"
    save(ranking[0], path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 if keep == "half" else keep])
    with pytest.raises(ModelFileError, match="damaged or is not a model file"):
        load(path)


# ---------------------------------------------------------------------- versions
def rewrite(path: Path, change) -> None:
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


def as_version(version, checksums: bool):
    def change(payload):
        meta = json.loads(payload["meta"])
        meta["format_version"] = version
        payload["meta"] = json.dumps(meta)
        payload.pop(CHECKSUMS_KEY, None)
        if checksums:
            payload[CHECKSUMS_KEY] = member_checksums(payload)

    return change


def test_a_version_1_file_loads_with_a_warning(ranking, tmp_path):
    model, X = ranking
    path = tmp_path / "model.pt"
    save(model, path)
    rewrite(path, as_version(1, checksums=False))
    with pytest.warns(UserWarning, match="integrity cannot be checked"):
        loaded = load(path)
    assert_predicts_the_same_bits(loaded, model.predict_proba(X), X)


def test_a_version_2_file_without_checksums_is_refused(ranking, tmp_path):
    path = tmp_path / "model.pt"
    save(ranking[0], path)
    rewrite(path, as_version(2, checksums=False))
    with pytest.raises(ModelFileError, match="corrupted.*lacks the checksums"):
        load(path)


def test_format_versions_other_than_1_and_2_are_refused(ranking, tmp_path):
    path = tmp_path / "model.pt"
    for version in [0, 3, 6, -1, True, 2.0, "2", None]:
        save(ranking[0], path)
        rewrite(path, as_version(version, checksums=True))
        with pytest.raises(ModelFileError, match="format version"):
            load(path)
