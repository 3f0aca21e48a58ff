"""A repository's cache of its checked reference data (``.kitamono/reference.pickle``).

Every command needs the reference data; parsing and checking its YAML files costs tens of
milliseconds each time. The cache keeps the checked ``Reference`` with the size and modification
time of every data file it came from (the shipped ones and the repository's own), and is used
only while they are all unchanged and older than the cache by the racy-clean margin of the case
index. It is read by an unpickler that admits only kitamono's own reference models, so a tampered
cache cannot run code; anything unusable is simply rebuilt from the files.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

from kitamono import __version__
from kitamono.store import RACY_NS

CACHE_NAME = "reference.pickle"
FORMAT = f"{__version__}/1"


def _sources(extra_dir: Path | None) -> list[tuple[str, int, int]]:
    from kitamono.reference import shipped_data_dir

    found: list[tuple[str, int, int]] = []
    for folder in (shipped_data_dir(), extra_dir):
        if folder is None or not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name.endswith(".yaml") and entry.is_file():
                info = entry.stat()
                found.append((entry.path, info.st_size, info.st_mtime_ns))
    return found


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        from pydantic import BaseModel

        if module == "kitamono.models":
            from kitamono import models

            found = getattr(models, name, None)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        elif (module, name) == ("kitamono.reference", "Reference"):
            from kitamono.reference import Reference

            return Reference
        elif (module, name) == ("datetime", "date"):
            from datetime import date

            return date
        elif (module, name) in (("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path")):
            return Path
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the reference cache")


def cached(extra_dir: Path | None, cache_dir: Path, load: Callable):  # -> Reference
    """The reference data from the cache when it is current, else loaded (and cached) anew."""
    sources = _sources(extra_dir)
    path = cache_dir / CACHE_NAME
    try:
        with path.open("rb") as handle:
            data = _Unpickler(handle).load()
        form, built_ns, known, reference = data
        if form == FORMAT and known == sources and all(m < built_ns - RACY_NS for _, _, m in sources):
            return reference
    except Exception:  # noqa: BLE001 - missing, damaged or stale: load from the files
        pass
    built_ns = time.time_ns()
    reference = load(extra_dir)
    if cache_dir.is_dir():
        from kitamono.store import atomic_write_bytes

        try:
            data = pickle.dumps((FORMAT, built_ns, sources, reference), protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write_bytes(path, data, durable=False)
        except OSError:
            pass  # only speed is lost
    return reference
