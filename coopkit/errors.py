"""Errors that mean "the user's input is wrong" (CLI exit code 2) as opposed to bugs (exit 1)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user supplied is wrong; the message says what and how to fix it."""


class RecipeError(UserError):
    """A recipe failed validation. Holds every problem found, each with a dotted location."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the recipe"]
        lines += [f"  {location}: {message}" for location, message in problems]
        super().__init__("\n".join(lines))


class UnknownComponentError(UserError):
    """A name that no registry holds; the message suggests what was meant."""


class DataError(UserError):
    """Data that is missing or unreadable."""


class CheckpointError(UserError):
    """A checkpoint or run directory that cannot be read."""


class ParamsError(UserError):
    """Parameters given to a component from Python (:func:`coopkit.get_component`) that it refuses.
    Holds every problem found, each with the parameter it concerns."""

    def __init__(self, component: str, problems: list[tuple[str, str]]):
        self.component = component
        self.problems = problems
        lines = [f"{component}: {len(problems)} problem(s) with its parameters"]
        lines += [
            f"  {where}: {message}" if where else f"  {message}" for where, message in problems
        ]
        super().__init__("\n".join(lines))


class ComponentContractError(UserError):
    """A component returned what the engine cannot train on: a score or energy that is not one
    finite value per example, generator output of the wrong shape or far outside the data's range,
    a data batch that does not match the declared layout. Found by the checks on the first
    iteration (:mod:`coopkit.engine.contracts`); the message names the component, the plugin it
    comes from and the fix."""


class TrainingDiverged(Exception):
    """Training left the healthy regime (NaN, inf, or samples far outside the data's range); the
    run stopped before saving the diverged state (CLI exit code 3)."""


class PluginError(Exception):
    """A plugin failed to load or to register (fatal only in strict mode)."""


class PluginAPIError(PluginError):
    """A plugin declares a plugin API version this coopkit cannot serve (another major version,
    or a value that is not a version); it is not loaded."""


class CoopkitWarning(UserWarning):
    """Something the user should know that did not stop the command (a skipped checkpoint, a
    rollback after divergence, a torn metrics line)."""
