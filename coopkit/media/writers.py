"""Sample writers, by data layout: how a batch of examples becomes files people can look at.

Plugins register one writer per layout with the ``coopkit_register_writers`` hook::

    @coopkit.hookimpl
    def coopkit_register_writers(registry):
        registry.add("b c d h w", "my_voxels.render:write_voxels", summary="...", modality="voxel")

The target is a function ``write(batch, stem, *, value_range, reference=None) -> list[Path]``:
``batch`` is a tensor in that layout with values in ``value_range``; the files it writes are named
``stem`` plus a suffix (``stem.png``, ``stem.gif``, ``stem_frames.png`` ...); ``reference``, when
given, holds observed examples to show beside the samples where the format allows. It returns
every file it wrote, and the run's report shows them.

coopkit registers the PNG grid for ``b c h w`` itself (:mod:`coopkit.media.grid`); coopkit-video
registers ``b c t h w``. A layout nobody writes is a :class:`~coopkit.errors.CoopkitWarning`, never
silence.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from coopkit.errors import CoopkitWarning, PluginError, UnknownComponentError, UserError
from coopkit.registry import Registry


@dataclass(frozen=True)
class SampleWriter:
    """A registered writer function, with the layout and plugin it came from."""

    layout: str
    plugin: str
    function: Callable[..., object]

    def __call__(
        self,
        batch: torch.Tensor,
        stem: str | Path,
        value_range: tuple[float, float] = (-1.0, 1.0),
        reference: torch.Tensor | None = None,
        formats: Sequence[str] | None = None,
    ) -> list[Path]:
        """Writes ``batch`` to files named ``stem`` + suffix; returns the files written.
        ``formats`` (e.g. ``["png", "obj"]``) asks for particular kinds of file; a writer
        without a ``formats`` keyword writes only its default ones, and asking it for others is
        a :class:`~coopkit.errors.UserError`. A writer that raises (other than for the disk or
        the user's input) or returns anything but files it wrote is a
        :class:`~coopkit.errors.PluginError` naming its plugin."""
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, object] = {"value_range": value_range, "reference": reference}
        if formats is not None:
            if "formats" not in inspect.signature(self.function).parameters:
                raise UserError(
                    f"{self._who} writes only its default files and takes no formats "
                    f"(asked for {', '.join(formats)}); leave out --format"
                )
            options["formats"] = list(formats)
        try:
            written = self.function(batch, stem, **options)
        except (OSError, UserError):
            raise
        except Exception as error:
            raise PluginError(
                f"{self._who} failed writing {stem}: {type(error).__name__}: {error}"
            ) from error
        return self._checked(written)

    @property
    def _who(self) -> str:
        return f"the sample writer for {self.layout!r} from plugin {self.plugin!r}"

    def _checked(self, written: object) -> list[Path]:
        fix = "a writer must return the list of files it wrote"
        if not isinstance(written, list | tuple) or not all(
            isinstance(path, str | os.PathLike) for path in written
        ):
            raise PluginError(f"{self._who} returned {written!r}; {fix}")
        paths = [Path(path) for path in written]
        if missing := [str(path) for path in paths if not path.is_file()]:
            raise PluginError(f"{self._who} returned files that do not exist: {missing}; {fix}")
        return paths


def sample_writer(layout: str, writers: Registry | None = None) -> SampleWriter | None:
    """The writer registered for ``layout`` in ``writers`` (default: the process-wide plugin
    host's), or ``None`` after a :class:`~coopkit.errors.CoopkitWarning` that says why and how
    to get one."""
    writer, problem = _lookup(layout, writers)
    if problem:
        warnings.warn(problem, CoopkitWarning, stacklevel=2)
    return writer


def writer_problem(layout: str, writers: Registry | None = None) -> str:
    """Why samples of ``layout`` cannot be written and what to do about it; empty if they can."""
    return _lookup(layout, writers)[1]


def _lookup(layout: str, writers: Registry | None) -> tuple[SampleWriter | None, str]:
    if writers is None:
        from coopkit.plugins import default_host

        writers = default_host().registries.writers
    layout = " ".join(layout.split())
    if layout not in writers and layout not in writers.clashes:
        known = writers.names()
        have = f"there are writers for {', '.join(map(repr, known))}" if known else "none at all"
        return None, (
            f"no sample writer is registered for the data layout {layout!r} ({have}), so no "
            "samples are written. Install the plugin for this kind of data, or register a writer "
            "with the coopkit_register_writers hook (docs/plugins.md, 'Sample writers')"
            + writers.unavailable_note()
        )
    try:
        entry = writers.get(layout)
        function = entry.load()
    except (UnknownComponentError, PluginError) as error:  # a clash, or a broken target
        return None, f"{error}; no samples are written"
    return SampleWriter(layout, entry.plugin, function), ""


def write_samples(
    batch: torch.Tensor,
    stem: str | Path,
    layout: str,
    value_range: tuple[float, float] = (-1.0, 1.0),
    reference: torch.Tensor | None = None,
    *,
    writers: Registry | None = None,
) -> list[Path]:
    """Writes a batch for people to look at with the writer registered for ``layout`` (observed
    ``reference`` examples beside it where the format allows, as for video); returns the files
    written — none, after a warning, when no writer is registered for the layout."""
    writer = sample_writer(layout, writers)
    return writer(batch, stem, value_range, reference) if writer is not None else []
