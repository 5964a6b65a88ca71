"""The runs of points training in this process, by samples folder.

A sample writer is given the samples and where to write them, not the model. To draw the
descriptor's energy under the samples, this plugin's ``coopkit_run_start`` hook records each run's
descriptor here and ``coopkit_run_end`` forgets it; the writer looks it up by the folder it
writes into. Outside training (``coopkit sample``) there is nothing here and the writer draws the
points alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coopkit.core import EnergyModel
from coopkit_example.data import POINTS
from coopkit_example.plot import EnergyFn

if TYPE_CHECKING:
    from coopkit import Run

_descriptors: dict[Path, EnergyModel] = {}


def track(run: Run) -> None:
    if run.layout == POINTS and run.descriptor is not None:
        _descriptors[run.directory.samples.resolve()] = run.descriptor


def forget(run: Run) -> None:
    _descriptors.pop(run.directory.samples.resolve(), None)


def energy_for(stem: Path) -> EnergyFn | None:
    """The energy of the run whose samples folder holds ``stem``, taking and giving CPU tensors;
    None when no run being trained writes there."""
    descriptor = _descriptors.get(Path(stem).parent.resolve())
    if descriptor is None:
        return None
    device = next(descriptor.parameters()).device
    return lambda points: descriptor.energy(points.to(device)).cpu()
