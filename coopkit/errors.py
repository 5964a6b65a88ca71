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


class TrainingDiverged(Exception):
    """Training left the healthy regime (NaN, inf, or samples far outside the data's range); the
    run stopped before saving the diverged state (CLI exit code 3)."""


class PluginError(Exception):
    """A plugin failed to load or to register (fatal only in strict mode)."""


class CoopkitWarning(UserWarning):
    """Something the user should know that did not stop the command (a skipped checkpoint, a
    rollback after divergence, a torn metrics line)."""
