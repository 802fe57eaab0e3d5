"""Replace a file whole or not at all.

:func:`atomic_write` writes into a new temporary file beside the target
(``.<name>.<random hex>.tmp``), flushes it to the disk, and only then renames it onto
the target with :func:`os.replace`, which is atomic on POSIX and Windows. Readers see
the old file or the new one, never a mix, and a write that fails (full disk, file
size limit, an error or interrupt in the caller's writer) leaves the old file as it
was and removes the temporary file. A process killed between creating and renaming
the temporary file leaves it behind; nothing else removes it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO


class _RecordingWriter:
    """A binary file that remembers the exception its ``write`` or ``flush`` raised.

    torch's archive writer turns an exception raised by ``write`` (an OSError for a
    full disk, even a KeyboardInterrupt) into a RuntimeError of its own (``unexpected
    pos ...``); the recorded exception is the real cause.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.error: BaseException | None = None

    def write(self, data) -> int:
        try:
            return self._file.write(data)
        except BaseException as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        try:
            self._file.flush()
        except BaseException as exc:
            self.error = self.error or exc
            raise


def _create_temporary(target: str) -> tuple[int, str]:
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            descriptor = os.open(temporary, flags, 0o666)  # narrowed by the umask, as for any new file
        except FileExistsError:
            continue
        if hasattr(os, "fchmod"):
            with contextlib.suppress(OSError):  # keep an existing file's permissions where possible
                os.fchmod(descriptor, stat.S_IMODE(os.stat(target).st_mode))
        return descriptor, temporary


def _sync_folder(folder: str) -> None:
    """Flush the folder's entry for the renamed file, where the OS lets a folder be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _failure(cause: BaseException, path: str, existed: bool) -> BaseException:
    """The error to raise when writing failed with ``cause``: it names the path and the cause."""
    outcome = f"the previous file at {path!r} is unchanged" if existed else f"no file was created at {path!r}"
    if isinstance(cause, OSError):
        message = f"Could not write {path!r} ({type(cause).__name__}: {cause}); {outcome}."
        error = OSError(cause.errno, message) if cause.errno is not None else OSError(message)
    elif isinstance(cause, Exception):
        error = RuntimeError(f"Could not write {path!r} ({type(cause).__name__}: {cause}); {outcome}.")
    else:
        if hasattr(cause, "add_note"):
            cause.add_note(f"Interrupted while writing {path!r}; {outcome}.")
        return cause
    error.__cause__ = cause
    return error


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write a file through ``write`` and put it in place of ``path`` in one step.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace. A symbolic link is followed: the file it
        points to is replaced. An existing file's permission bits are kept.
    write : callable
        Called with a binary file object open on the temporary file; it writes the
        whole content with ``write`` (and may call ``flush``).

    Raises
    ------
    OSError
        If creating, writing, flushing or renaming the file fails, or ``write``
        fails because writing to the file did (a full disk, a file size limit). The
        errno is the cause's; the message names ``path`` and the cause, and says
        that the previous file is unchanged (or that none was created). The
        original error is the ``__cause__``.
    RuntimeError
        If ``write`` raises another exception; it is the ``__cause__``.
    BaseException
        A ``KeyboardInterrupt`` or ``SystemExit``, even one that torch's writer
        turned into a RuntimeError, is raised again, with a note naming ``path``
        (Python 3.11 and later), after the temporary file is removed.
    """
    path = os.fspath(path)
    target = os.path.realpath(path)
    existed = os.path.exists(target)
    temporary = None
    writer = None
    try:
        descriptor, temporary = _create_temporary(target)
        with os.fdopen(descriptor, "wb") as file:
            # Buffered: a raw file may write part of what it is given, which torch would not notice.
            writer = _RecordingWriter(file)
            write(writer)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
        temporary = None
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.remove(temporary)
        error = _failure(exc if writer is None or writer.error is None else writer.error, path, existed)
        if error is exc:
            raise
        raise error from error.__cause__
    _sync_folder(os.path.dirname(target))
