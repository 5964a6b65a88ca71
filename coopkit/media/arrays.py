"""Examples stored as numpy arrays (``.npy``, ``.npz``): one set of rules for every data source.

Public so that modality plugins read arrays the same way instead of each writing its own reader.
The rules:

- A ``.npy`` file holds one array. It is memory-mapped, so only the parts a source uses are read.
- A ``.npz`` file holds named arrays: the one it holds, or the one ``key`` names. A file of several
  arrays without a ``key``, or a ``key`` it does not hold, is an error that lists its arrays.
  ``key`` applies to ``.npz`` files only (a ``.npy`` has one unnamed array).
- Nothing is unpickled (``allow_pickle=False``): an object array is an unreadable file.
- A stack of pictures (images, or a clip's frames) is ``(n, h, w)`` (gray), ``(n, h, w, c)`` or
  ``(n, c, h, w)``. An axis looks like channels when it has 1, 3 or 4 entries (gray, RGB, RGBA).
  The layout is never guessed: when exactly one of axis 1 and the last axis looks like channels,
  that one is; when both do or neither does, it is an error naming the setting that decides.

Every error is a :class:`~coopkit.errors.DataError` that names the recipe key (``where``), the
file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coopkit.errors import DataError

ARRAY_SUFFIXES = (".npy", ".npz")
CHANNEL_COUNTS = frozenset({1, 3, 4})
"""Entries on an axis that make it look like channels: gray, RGB, RGBA."""


def read_array(
    source: str | Path,
    *,
    where: str,
    key: str | None = None,
    key_setting: str = "data.key",
    what: str = "arrays",
) -> np.ndarray:
    """The array in the ``.npy`` file (memory-mapped) or ``.npz`` file at ``source``.

    ``where`` is the recipe key that gave ``source`` (``"data.path"``), ``key_setting`` the one
    that gives ``key``, and ``what`` says what the file should hold (``"images"``), for the
    messages."""
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataError(
            f"{where} = {str(source)!r}: no such file; give a .npy or .npz file of {what}"
        )
    suffix = path.suffix.lower()
    if suffix not in ARRAY_SUFFIXES:
        raise DataError(f"{where} = {str(source)!r}: not a .npy or .npz file")
    try:
        if suffix == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as archive:
            return archive[_npz_key(archive.files, key, where, str(source), key_setting)]
    except (OSError, ValueError, EOFError) as error:
        raise DataError(
            f"{where} = {str(source)!r}: cannot read it as a numpy array ({error})"
        ) from None


def _npz_key(names: list[str], key: str | None, where: str, source: str, setting: str) -> str:
    """The array of a .npz file to read: ``key``, or the file's only array."""
    held = ", ".join(names) or "none"
    if key is None:
        if len(names) != 1:
            raise DataError(
                f"{where} = {source!r} holds {len(names)} arrays ({held}): set {setting} to the "
                "name of the one to read"
            )
        return names[0]
    if key not in names:
        raise DataError(f"{where} = {source!r} has no array {setting} = {key!r}; it holds: {held}")
    return key


def channels_are_last(
    shape: tuple[int, ...],
    channels_last: bool | None,
    *,
    where: str,
    setting: str = "data.channels_last",
    stack: str = "n",
    what: str = "images",
) -> bool:
    """Whether a stack of pictures of ``shape`` is ``(n, h, w, c)``: ``channels_last`` when it is
    set, else whichever of axis 1 and the last axis alone looks like channels (1, 3 or 4
    entries). ``False`` for a gray ``(n, h, w)`` stack.

    ``setting`` is the recipe key of ``channels_last``, ``stack`` the name of the first axis
    (``"n"`` for images, ``"t"`` for a clip's frames) and ``what`` what the stack holds, for the
    messages."""
    layouts = f"({stack}, h, w), ({stack}, h, w, c) or ({stack}, c, h, w)"
    if len(shape) == 3:
        return False
    if len(shape) != 4:
        raise DataError(f"{where}: {what} must be {layouts}; got {tuple(shape)}")
    if channels_last is not None:
        return channels_last
    last, first = shape[3] in CHANNEL_COUNTS, shape[1] in CHANNEL_COUNTS
    if last != first:
        return last
    why = "both axis 1 and axis 3 look like" if last else "neither axis 1 nor 3 looks like"
    raise DataError(
        f"{where}: cannot tell the layout of shape {tuple(shape)}: {why} channels (1, 3 or 4 "
        f"entries). Set {setting} = true for ({stack}, h, w, c) or false for ({stack}, c, h, w)"
    )


def to_channels_first(array: np.ndarray, channels_last: bool) -> np.ndarray:
    """A stack of pictures as ``(n, c, h, w)`` (a view, not a copy): a gray ``(n, h, w)`` stack
    gains one channel, an ``(n, h, w, c)`` one (``channels_last``) is transposed."""
    if array.ndim == 3:
        return array[:, None]
    return array.transpose(0, 3, 1, 2) if channels_last else array
