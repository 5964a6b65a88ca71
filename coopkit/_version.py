"""coopkit's version, written only here: ``coopkit.__version__`` and the package metadata
(``[tool.hatch.version]`` in pyproject.toml) both read it."""

__version__ = "0.1.0"
