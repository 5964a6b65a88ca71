"""Files written whole or not at all: a temporary file beside the target, synced to disk, then
renamed over it. A crash leaves the old file (and at worst a ``.NAME.*`` temporary, which the next
run removes)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_prefix(path: Path) -> str:
    return f".{path.name}."


@contextmanager
def replacing(path: Path) -> Iterator[str]:
    """Yields the name of a temporary file to write ``path``'s new content into; when the block
    ends, the file is synced and renamed over ``path``. On an error the temporary is removed and
    ``path`` is untouched."""
    handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(path), dir=path.parent)
    os.close(handle)
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform (e.g. Windows); the rename is still atomic
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
