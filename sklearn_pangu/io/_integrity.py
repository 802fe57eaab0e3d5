"""SHA-256 checksums of the members of a saved payload, to detect a damaged file.

A member is a leaf of the payload's nested dicts, named by its keys joined with
``/``: ``meta``, ``modules/module/deep.0.weight``,
``optimizers/optimizer/state/0/exp_avg``, ``optimizers/optimizer/param_groups``. A
tensor is hashed with its dtype and shape and the bytes of its values, read in place
when it is a contiguous CPU tensor. Any other leaf is hashed through a type-tagged
canonical encoding, so ``1``, ``1.0``, ``True`` and ``"1"`` differ, as do a list and
a tuple. The keys leading to a member, with their types, are hashed with it.

Checksums detect corruption (a flipped bit, a truncated record, a record swapped for
another), not tampering: anyone who edits a file can recompute them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

import torch

#: Top-level key of the payload that holds the checksums; it is not a member itself.
CHECKSUMS_KEY = "checksums"


def _feed_tensor(hasher, tensor: torch.Tensor) -> None:
    values = tensor.detach().cpu().contiguous()  # no copy for a contiguous CPU tensor
    hasher.update(f"tensor:{values.dtype}:{tuple(values.shape)}:".encode())
    if values.numel():
        # A uint8 view reads every dtype's bytes, bfloat16 included, which numpy has no type for.
        hasher.update(memoryview(values.reshape(-1).view(torch.uint8).numpy()))


def _feed(hasher, value) -> None:
    """Feed a canonical, type-tagged encoding of ``value`` to ``hasher``."""
    if isinstance(value, torch.Tensor):
        _feed_tensor(hasher, value)
    elif value is None or isinstance(value, bool):
        hasher.update(repr(value).encode() + b";")
    elif isinstance(value, int):
        hasher.update(b"int:%d;" % value)
    elif isinstance(value, float):
        hasher.update(f"float:{value.hex()};".encode())
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        hasher.update(b"str:%d:" % len(data) + data)
    elif isinstance(value, bytes):
        hasher.update(b"bytes:%d:" % len(value) + value)
    elif isinstance(value, (list, tuple)):
        hasher.update(b"%s:%d:" % (type(value).__name__.encode(), len(value)))
        for item in value:
            _feed(hasher, item)
    elif isinstance(value, Mapping):
        hasher.update(b"dict:%d:" % len(value))
        for key, item in value.items():
            _feed(hasher, key)
            _feed(hasher, item)
    else:
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        text = repr(value).encode("utf-8", "backslashreplace")
        hasher.update(f"{kind}:{len(text)}:".encode() + text)


def _name(key) -> str:
    return str(key).replace("%", "%25").replace("/", "%2F")


def _members(node: Mapping, keys: tuple, prefix: str) -> Iterator[tuple[str, tuple, object]]:
    for key, value in node.items():
        name = f"{prefix}/{_name(key)}" if prefix else _name(key)
        if isinstance(value, Mapping) and value:
            yield from _members(value, (*keys, key), name)
        else:
            yield name, (*keys, key), value


def member_checksums(payload: Mapping) -> dict[str, str]:
    """SHA-256 hex digest of every member of ``payload``, in the payload's order.

    Parameters
    ----------
    payload : dict
        The dict a model file holds; its ``"checksums"`` entry, if any, is skipped.

    Returns
    -------
    checksums : dict of str to str
        Member name (its keys joined with ``/``) to the digest of its keys and value.
    """
    checksums = {}
    members = {key: value for key, value in payload.items() if key != CHECKSUMS_KEY}
    for name, keys, value in _members(members, (), ""):
        hasher = hashlib.sha256()
        _feed(hasher, keys)
        _feed(hasher, value)
        checksums[name] = hasher.hexdigest()
    return checksums


def find_damage(payload: Mapping) -> str | None:
    """Compare the checksums recorded in ``payload`` with its members.

    Parameters
    ----------
    payload : dict
        A payload holding a ``"checksums"`` entry written by :func:`member_checksums`.

    Returns
    -------
    problem : str or None
        None when every member matches its checksum; otherwise what is wrong, naming
        the first member (in the file's order) that does not match, or a member
        that is missing or has no checksum.
    """
    recorded = payload.get(CHECKSUMS_KEY)
    if not isinstance(recorded, dict) or not all(
        isinstance(name, str) and isinstance(digest, str) for name, digest in recorded.items()
    ):
        return "its checksums are not a mapping of member names to digests"
    actual = member_checksums(payload)
    for name, digest in actual.items():
        if name not in recorded:
            return f"the member {name!r} has no checksum (an unexpected member)"
        if recorded[name] != digest:
            return f"the member {name!r} does not match its checksum"
    missing = [name for name in recorded if name not in actual]
    if missing:
        return f"the member {missing[0]!r} is missing"
    return None
