"""`python -m coopkit ARGS` as a real process, forked from a server that has already imported the
third-party libraries coopkit runs on (torch above all), so that a test which starts many
processes does not pay about 3 s of imports for each.

Each process is a fresh fork of that server, not of the test: it imports coopkit and the
installed plugins itself, runs the command line as ``python -m coopkit`` would (``sys.argv``,
``__main__``), in its own environment, with its output in files, and ends with the command's
exit code, or ``-N`` when signal N killed it. :class:`CoopkitProcess` answers the part of
:class:`subprocess.Popen` the tests use. Functions of a test module can run in the same server's
processes through :func:`server` (``torch.multiprocessing.start_processes(...,
start_method="forkserver")``).

Where it differs from a new interpreter, and so what such a test cannot check:
- what is read when the preloaded libraries are imported, or when Python starts, is the server's:
  ``PYTHONHASHSEED`` and the string hashes, numpy's global random state, ``TYPER_USE_RICH``,
  torch's logging and debug variables. What coopkit and torch.distributed read later (``RANK``,
  ``WORLD_SIZE``, ``MASTER_*``, ``COLUMNS``, ``NO_COLOR``, ``COOPKIT_*``) and the thread count
  are the process's own;
- the process ends with ``os._exit`` after the command returns: no atexit handlers, no interpreter
  teardown (a hang at shutdown would not show here);
- an uncaught KeyboardInterrupt exits 1, not -2.
So a test that needs any of these, or one end-to-end run of the installed command, starts
``python -m coopkit`` with :mod:`subprocess` (test_kill_resume.py's reference run,
test_plugins.py's smoke test). Each pytest worker that uses this keeps one server (~0.7 GB).
"""

from __future__ import annotations

import atexit
import contextlib
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
]

_context: ForkServerContext | None = None
_started: list[multiprocessing.process.BaseProcess] = []


@atexit.register
def _kill_leftovers() -> None:
    """Runs before multiprocessing's own exit handler, which would wait for every process that
    is left (forever, for a stopped one)."""
    for process in _started:
        if process.exitcode is None:
            process.kill()
            process.join()


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
    for fd, path in ((1, stdout), (2, stderr)):  # appending: the two may be one file
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
            # the server reaps its children: one that just ended may already be gone
            with contextlib.suppress(ProcessLookupError):
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
    _started.append(process)
    return CoopkitProcess(process)
