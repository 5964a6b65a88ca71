"""Writing samples so people can look at them: image grids (and, from plugins' layouts, more)."""

from coopkit.media.writers import image_grid, write_grid, write_samples

__all__ = ["image_grid", "write_grid", "write_samples"]
