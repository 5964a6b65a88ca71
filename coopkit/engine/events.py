"""What the engine needs from the plugins around it, as protocols: the engine imports no plugin
machinery, and :class:`coopkit.plugins.PluginHost` satisfies both as it is.

The events a run sends are the hooks ``coopkit_run_start(run)``, ``coopkit_log_step(run,
iteration, metrics)`` and ``coopkit_run_end(run, interrupted)`` (:mod:`coopkit.hookspecs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from coopkit.registry import Registries


@runtime_checkable
class RunEvents(Protocol):
    """Receives a run's events by hook name, with the hook's arguments by keyword."""

    def call_event(self, hook_name: str, **kwargs: Any) -> None: ...


@runtime_checkable
class RunHost(RunEvents, Protocol):
    """What a run is built with: its events' receiver, the registries its components and sample
    writers come from, and the plugin versions its checkpoints record."""

    registries: Registries

    def versions(self) -> dict[str, str]: ...
