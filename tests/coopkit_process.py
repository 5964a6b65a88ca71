"""`python -m coopkit ARGS` as a real process, forked from a server that has already imported the
third-party libraries coopkit runs on (torch above all), so that a test which starts many
processes does not pay about 3 s of imports for each.

Each process is a fresh fork of that server, not of the test: it imports coopkit and the
installed plugins itself, runs the command line as ``python -m coopkit`` would (``sys.argv``,
``__main__``), in its own environment, with its output in a file, and ends with the command's
exit code, or ``-N`` when signal N killed it. :class:`CoopkitProcess` answers the part of
:class:`subprocess.Popen` the tests use. Functions of a test module can run in the same server's
processes through :func:`server` (``torch.multiprocessing.start_processes(...,
start_method="forkserver")``).
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
from collections.abc import Mapping
from multiprocessing.context import ForkServerContext
from pathlib import Path

# What the server imports once. coopkit itself is not among them: every process imports it, and
# reads its environment (console width, colours, plugin switches), as a new interpreter does.
PRELOADED = [
    "numpy",
    "PIL.Image",
    "pydantic",
    "rich.console",
    "typer",
    "torch",
    "torch._dynamo",  # imported by torch.optim when the first optimizer is built: ~1 s
    "torch.distributed",
    "torchvision",
    "safetensors.torch",
    "einops",
    "pytest",  # the main module of a test run, which every process re-imports
]

_context: ForkServerContext | None = None


def server() -> ForkServerContext:
    """The multiprocessing context whose processes fork from the preloaded server."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOADED)
    return _context


def _run_coopkit(args: list[str], environment: dict[str, str], stdout: str, stderr: str) -> None:
    os.environ.clear()
    os.environ.update(environment)
    import torch  # a new interpreter would read OMP_NUM_THREADS; the server already has

    if "OMP_NUM_THREADS" in environment:
        torch.set_num_threads(int(environment["OMP_NUM_THREADS"]))
    for fd, path in ((1, stdout), (2, stderr)):
        if path:
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(target, fd)
            os.close(target)
    sys.argv = ["coopkit", *args]
    runpy.run_module("coopkit", run_name="__main__", alter_sys=True)


class CoopkitProcess:
    """A started `coopkit` process, as much of :class:`subprocess.Popen` as the tests use."""

    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process = process

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            assert timeout is not None
            raise subprocess.TimeoutExpired(["coopkit"], timeout)
        return self._process.exitcode

    def send_signal(self, signal_number: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signal_number)

    def kill(self) -> None:
        self._process.kill()


def start(
    args: list[str], environment: Mapping[str, str], stdout: Path, stderr: Path | None = None
) -> CoopkitProcess:
    """Starts `coopkit ARGS` with ``environment`` (the whole of it, as ``Popen(env=...)``);
    stdout goes to ``stdout``, stderr to ``stderr`` or, without it, to ``stdout`` as well."""
    for path in (stdout, stderr):
        if path is not None:
            path.write_bytes(b"")
    process = server().Process(
        target=_run_coopkit,
        args=(list(args), dict(environment), str(stdout), str(stderr or stdout)),
        daemon=False,
    )
    process.start()
    return CoopkitProcess(process)
