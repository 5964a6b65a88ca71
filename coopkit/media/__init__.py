"""Writing samples so people can look at them: image grids (and, from plugins' layouts, more)."""

from coopkit.media.writers import write_samples

__all__ = ["write_samples"]
