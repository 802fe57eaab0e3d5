"""Resident memory of this process: the current and peak RSS, and resetting the peak (Linux)."""

from __future__ import annotations

import ctypes
import resource
import sys
from pathlib import Path

MIB = 2**20


def status_mib(field: str) -> float | None:
    """A memory line of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Restart the peak-RSS count (``VmHWM``); False where the kernel does not allow it.

    Freed heap memory goes back to the system first (glibc ``malloc_trim``): otherwise
    the allocations being measured reuse pages that are already counted as resident.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def max_rss_mib() -> float:
    """The peak RSS of the whole process so far, in MiB (``getrusage``, never reset)."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB
