"""What kitamono's caches in ``.kitamono/`` share: file stamps, the racy-clean rule, a safe unpickler.

Two caches spare commands the cost of parsing YAML: the case index (``index.py``) and the checked
reference data (``reference.py``). Both are rebuilt from the files whenever they are missing,
damaged or stale, and follow the same three rules::

    stamps([folder])                  [(path, size, mtime_ns)] of the YAML files a cache was made from
    trusted_before(built_ns, handle)  files modified from then on are read again (git's racy-clean rule)
    SafeUnpickler                     admits only the classes a cache names; a tampered file runs no code

A cache is written in one step through the store's atomic writer, but not forced to the disk:
one lost in a crash is simply rebuilt.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, ClassVar, TypeVar

from kitamono.store import atomic_write_bytes

T = TypeVar("T")

#: A file modified this close to when a cache was built may have changed again within the same
#: clock tick without changing its stamp, so the cache is not trusted for it (git's racy-clean rule).
RACY_NS = 2_000_000_000
#: The same margin where the file system keeps times finer than a second (a clock tick is a few
#: milliseconds), so that a command run right after an edit need not read the file again.
RACY_FINE_NS = 100_000_000

#: A file as a cache knows it: (path, size, modification time in ns).
Stamp = tuple[str, int, int]


def stamps(folders: Iterable[Path | None], suffix: str = ".yaml") -> list[Stamp]:
    """The stamps of the files named ``*suffix`` in each folder (missing folders are skipped)."""
    found: list[Stamp] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith(suffix) and entry.is_file():
                info = entry.stat()
                found.append((entry.path, info.st_size, info.st_mtime_ns))
    return found


def trusted_before(built_ns: int, handle: IO[bytes]) -> int:
    """The time from which files may have changed since the cache open in ``handle`` was built
    (at ``built_ns``) without changing their stamps: their entries are not trusted."""
    fine = os.fstat(handle.fileno()).st_mtime_ns % 1_000_000_000 != 0  # the cache file's own time
    return built_ns - (RACY_FINE_NS if fine else RACY_NS)


class SafeUnpickler(pickle.Unpickler):
    """Reads one of kitamono's caches: admits only the classes in ``allowed``, so a tampered cache
    cannot run code; anything else in it is an error, and the cache is rebuilt."""

    allowed: ClassVar[Mapping[tuple[str, str], type]] = {}

    def find_class(self, module: str, name: str) -> type:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a kitamono cache") from None


def pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def write(path: Path, data: bytes) -> None:
    """Replace the cache file ``path`` in one step (OSError if it cannot be written)."""
    atomic_write_bytes(path, data, durable=False)


def cached(path: Path, version: str, sources: list[Stamp], build: Callable[[], T], kind: type[T],
           unpickler: type[SafeUnpickler]) -> T:  # fmt: skip
    """What ``build()`` returns, kept in ``path`` and used again while every source file is as it
    was when it was built (and was already older then, by the racy-clean margin).

    The file holds ``(version, built_ns, sources, value)``; one missing, damaged, of another
    version or stale is rebuilt, and one that cannot be written only costs speed.
    """
    try:
        with path.open("rb") as handle:
            kept = unpickler(handle).load()
            if type(kept) is tuple and len(kept) == 4 and kept[0] == version and kept[2] == sources:
                _, built_ns, _, value = kept
                trusted = trusted_before(built_ns, handle)
                if isinstance(value, kind) and all(mtime < trusted for _, _, mtime in sources):
                    return value
    except Exception:  # noqa: BLE001 - missing, damaged or stale: build it from the files
        pass
    built_ns = time.time_ns()
    value = build()
    if path.parent.is_dir():
        with suppress(OSError):  # only speed is lost
            write(path, pickled((version, built_ns, sources, value)))
    return value

