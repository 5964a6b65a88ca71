"""Writing samples so people can look at them: the sample-writer registry's lookup
(:mod:`coopkit.media.writers`), image grids (:mod:`coopkit.media.grid`); and reading them for data
sources: folders of pictures and frames (:mod:`coopkit.media.frames`) and numpy arrays
(:mod:`coopkit.media.arrays`)."""

from coopkit.media.grid import image_grid, write_grid
from coopkit.media.writers import SampleWriter, sample_writer, write_samples

__all__ = ["SampleWriter", "image_grid", "sample_writer", "write_grid", "write_samples"]
