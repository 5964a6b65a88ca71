"""2D image nets, data sources and recipes for coopkit."""

__version__ = "0.1.0"
