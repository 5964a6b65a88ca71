"""coopkit-example: CoopNets on 2D toy densities — the plugin to copy when writing your own."""

__version__ = "0.1.0"
