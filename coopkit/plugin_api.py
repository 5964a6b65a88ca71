"""The plugin API's version: what a plugin written for one coopkit can rely on in another.

``PLUGIN_API`` is ``"MAJOR.MINOR"``. A minor version adds — hooks, arguments to hooks, public
modules (:data:`PUBLIC_MODULES`) and functions — and removes nothing; a major version may remove
or change what plugins use. A plugin says which version it was written for in its hook module::

    COOPKIT_PLUGIN_API = "1.0"

and the host checks it before registering the plugin's hooks:

- the same major version, minor no newer than coopkit's: the plugin loads;
- the same major version, a newer minor: the plugin loads with a warning (it may use what this
  coopkit lacks; upgrade coopkit), fatal in strict mode;
- another major version, or a value that is not ``"MAJOR.MINOR"``: the plugin is not loaded
  (:class:`~coopkit.errors.PluginAPIError`), and the message says what to install.

A plugin that declares nothing loads as before. CHANGELOG.md records every change of the version.
Importing this module is cheap (no torch).
"""

from __future__ import annotations

import re

from coopkit.errors import PluginAPIError

PLUGIN_API = "1.0"
ATTRIBUTE = "COOPKIT_PLUGIN_API"

PUBLIC_MODULES = (
    "coopkit",  # hookimpl, build, load, Run, Recipe, list_components, get_component, ...
    "coopkit.core",  # the abstractions, the Params base classes, init_normal, upsampling_padding
    "coopkit.errors",
    "coopkit.media",  # write_samples, write_grid, image_grid, sample_writer
    "coopkit.media.arrays",  # reading .npy/.npz files and stacks of pictures
    "coopkit.media.frames",  # folders of pictures and frames, crop and resize
    "coopkit.media.grid",
    "coopkit.media.writers",
    "coopkit.memory",  # machine memory, sizes that cannot fit, out-of-memory errors
    "coopkit.outputs",  # where commands on a trained run write
    "coopkit.evaluation",  # evaluating a run; baselines and options for commands
    "coopkit.completion",  # latent inference from partly observed examples
    "coopkit.testing",
)
"""The modules a plugin may import (docs/plugins.md, "Helpers for plugins"); everything else in
coopkit is internal. A test keeps the built-in plugins to these."""
_VERSION = re.compile(r"(\d+)\.(\d+)")


def parse(version: str) -> tuple[int, int]:
    """``"1.2"`` → ``(1, 2)``; anything else is a ``ValueError``."""
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise ValueError(f"{version!r} is not a plugin API version (write it as 'MAJOR.MINOR')")
    return int(match[1]), int(match[2])


def check_plugin_api(plugin: object) -> tuple[str, str]:
    """What ``plugin`` (a hook module or object) declares as ``COOPKIT_PLUGIN_API`` ("" when
    nothing) and a warning to show ("" when none). Raises :class:`PluginAPIError` when this
    coopkit cannot serve it."""
    declared = getattr(plugin, ATTRIBUTE, None)
    if declared is None:
        return "", ""
    ours = parse(PLUGIN_API)
    try:
        theirs = parse(declared)
    except ValueError:
        raise PluginAPIError(
            f"{ATTRIBUTE} = {declared!r} is not a plugin API version; write the version the "
            f'plugin was written for as a string, e.g. {ATTRIBUTE} = "{PLUGIN_API}"'
        ) from None
    if theirs[0] != ours[0]:
        newer = theirs[0] > ours[0]
        fix = (
            f"upgrade coopkit to one that provides plugin API {theirs[0]}.x"
            if newer
            else f"install a version of the plugin written for plugin API {ours[0]}.x"
        )
        raise PluginAPIError(
            f"written for coopkit plugin API {declared}, but this coopkit provides "
            f"{PLUGIN_API} (a different major version: what the plugin uses may be gone or "
            f"changed); {fix}"
        )
    if theirs[1] > ours[1]:
        return declared, (
            f"written for coopkit plugin API {declared}, newer than this coopkit's {PLUGIN_API}: "
            "it may use hooks or functions this coopkit lacks; upgrade coopkit "
            "(pip install -U coopkit)"
        )
    return declared, ""
