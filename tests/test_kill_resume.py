"""SIGKILL a real `coopkit run` process at random points (start-up, mid-training, inside a
checkpoint write, inside the rewrite of metrics.jsonl on --resume), then `--resume` it until it
finishes: its final checkpoint and its history must equal those of an uninterrupted run."""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import coopkit_process
import numpy as np
import pytest
import tomli_w
import torch
from coopkit_process import CoopkitProcess
from safetensors.torch import load_file
from tiny_nets import tiny_nets

ITERATIONS = 40
SEED = 20240611  # picks the kill points; the same seed kills at the same points
CHECKPOINT_TEMPORARY = ".iter_"  # checkpoints are written as .iter_NNNNNNN.safetensors.XXXX
METRICS_TEMPORARY = ".metrics.jsonl."  # --resume rewrites metrics.jsonl through such a file
LAUNCH_LIMIT = 16  # processes of the interrupted run, all together
PROCESS_TIMEOUT = 120.0  # seconds one process may take before the test gives up on it

# About the cheapest run the installed plugins allow: 8×8 gray images from an array file, nets a
# few channels wide, 2 Langevin steps, a checkpoint every iteration, samples only at the end.
RECIPE = {
    "schema_version": 1,
    "description": "killed and resumed",
    "seed": 0,
    **tiny_nets(),
    "sampler": {"name": "langevin", "steps": 2, "step_size": 0.002},
    "train": {"iterations": ITERATIONS, "chains": 4, "batch_size": 4, "device": "cpu"},
    "output": {"sample_every": 10_000, "checkpoint_every": 1, "keep_checkpoints": 2},
}


@dataclass
class Kill:
    """One planned SIGKILL: ``mode`` says at what, ``value`` how far into it."""

    mode: str  # delay (s) | iterations (new lines) | checkpoint-write (n-th) | metrics-rewrite
    value: float
    landed: list[str] = field(default_factory=list)  # what the process was writing when it died
    seconds: float = 0.0  # how long the process had lived
    wrote_nothing: bool = False  # the run directory is as the process found it


def _plan(rng: random.Random) -> list[Kill]:
    return [
        # start-up or early training: a process imports coopkit and its plugins in a fraction of
        # a second (the libraries under them are preloaded, coopkit_process.py), then trains
        Kill("delay", rng.uniform(0.05, 0.8)),
        Kill("checkpoint-write", rng.randint(1, 5)),  # inside the n-th checkpoint it writes
        # a resumed run that dies before writing anything (while it imports coopkit)
        Kill("delay", rng.uniform(0.0, 0.05)),
        Kill("metrics-rewrite", 0),  # inside --resume's rewrite of metrics.jsonl
        Kill("iterations", rng.randint(2, 10)),  # somewhere in the middle of training
    ]


Process = CoopkitProcess | subprocess.Popen


@pytest.fixture
def launch() -> Iterator[Callable[..., Process]]:
    """Starts `coopkit run RECIPE --no-progress FLAGS` forked from the preloaded server, or with
    ``fresh=True`` as a new `python -m coopkit` interpreter; kills what is left at the end."""
    env = dict(os.environ)
    # One thread per process: on a small machine torch's thread pool makes these tiny nets many
    # times slower, and the uninterrupted run trains alongside the interrupted one.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="300", NO_COLOR="1")
    launched: list[Process] = []

    def start(recipe: Path, flags: list[str], log: Path, fresh: bool = False) -> Process:
        args = ["run", str(recipe), "--no-progress", *flags]
        if fresh:
            with log.open("w") as out:  # stdout and stderr together
                command = [sys.executable, "-m", "coopkit", *args]
                launched.append(
                    subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
                )
        else:
            launched.append(coopkit_process.start(args, env, log))
        return launched[-1]

    yield start
    for process in launched:
        if process.poll() is None:
            process.kill()
            process.wait()


def _write_recipe(folder: Path, name: str) -> Path:
    recipe = copy.deepcopy(RECIPE)
    recipe["data"] = {"name": "arrays", "path": str(folder / "images.npy")}
    recipe["output"]["dir"] = str(folder / name)
    path = folder / f"{name}.toml"
    path.write_text(tomli_w.dumps(recipe))
    return path


def _names(folder: Path, prefix: str) -> set[str]:
    try:
        return {name for name in os.listdir(folder) if name.startswith(prefix)}
    except FileNotFoundError:
        return set()


def _temporaries(run: Path) -> set[str]:
    checkpoints = {f"checkpoints/{n}" for n in _names(run / "checkpoints", CHECKPOINT_TEMPORARY)}
    return checkpoints | _names(run, METRICS_TEMPORARY)


def _snapshot(run: Path) -> dict[str, tuple[int, int]]:
    """Every file under the run directory with its size and modification time."""
    if not run.exists():
        return {}
    return {
        str(p.relative_to(run)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in run.rglob("*")
        if p.is_file()
    }


class _Lines:
    """Counts the lines of metrics.jsonl, reading it only when its size changed."""

    def __init__(self, metrics: Path):
        self.metrics, self.size, self.count = metrics, -1, 0

    def __call__(self) -> int:
        try:
            size = self.metrics.stat().st_size
            if size != self.size:
                self.size, self.count = size, self.metrics.read_bytes().count(b"\n")
        except FileNotFoundError:
            self.size, self.count = -1, 0
        return self.count


def _kill_at(process: CoopkitProcess, run: Path, kill: Kill, rng: random.Random) -> bool:
    """SIGKILLs ``process`` at the point ``kill`` describes and notes what it was writing then;
    False when the process ended on its own first."""
    stale = _temporaries(run)  # a crash's leftovers, for the next process to clear
    lines = _Lines(run / "metrics.jsonl")
    lines_at_start, seen = lines(), set()
    started, fired = time.monotonic(), False
    while process.poll() is None and time.monotonic() - started < PROCESS_TIMEOUT:
        if kill.mode == "delay":
            fire = time.monotonic() - started >= kill.value
        elif kill.mode == "iterations":
            fire = lines() >= lines_at_start + kill.value
            if fire:  # somewhere inside the following iteration
                time.sleep(rng.uniform(0.0, 0.05))
        elif kill.mode == "checkpoint-write":
            seen |= {n for n in _temporaries(run) - stale if n.startswith("checkpoints/")}
            fire = len(seen) >= kill.value
        else:  # metrics-rewrite; if the rewrite slipped by unseen, in the first iteration after it
            new = _temporaries(run) - stale
            fire = any(n.startswith(METRICS_TEMPORARY) for n in new) or lines() > lines_at_start
        if not fire and lines() >= ITERATIONS - 3:  # a planned kill never lets the run finish
            kill.landed.append("near the end (the planned point never came)")
            fire = True
        if fire:
            process.send_signal(signal.SIGKILL)
            fired = True
            break
        time.sleep(0.0005)  # a checkpoint write takes milliseconds (it is fsynced)
    process.wait(timeout=PROCESS_TIMEOUT)
    kill.seconds = round(time.monotonic() - started, 2)
    if not fired or process.returncode != -signal.SIGKILL:
        return False  # the caller judges its exit code
    left = _temporaries(run) - stale
    if any(n.startswith("checkpoints/") for n in left):
        kill.landed.append("checkpoint write")
    if any(n.startswith(METRICS_TEMPORARY) for n in left):
        kill.landed.append("metrics rewrite")
    return True


def _is_restart_refusal(code: int, output: str) -> bool:
    """Exit 2 asking for --restart: a history but no checkpoint (a kill before checkpoint 1)."""
    return code == 2 and "--restart" in output and "checkpoint" in output


def _iteration_lines(metrics: Path) -> list[dict]:
    lines = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return [line for line in lines if "event" not in line]


def _without_timings(line: dict) -> dict:
    """A metrics line less its wall-clock timings: ``seconds`` and the per-step ``seconds_*``."""
    return {k: v for k, v in line.items() if k != "seconds" and not k.startswith("seconds_")}


def test_sigkilled_run_resumes_to_the_same_checkpoint_and_history(tmp_path, launch):
    images = np.random.default_rng(0).integers(0, 256, size=(32, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    reference_run, run = tmp_path / "uninterrupted", tmp_path / "killed"
    # the uninterrupted run trains alongside the interrupted one
    # the uninterrupted run is a new interpreter, as a user's (its own hash seed and global
    # random states); it trains alongside the interrupted one
    reference_recipe = _write_recipe(tmp_path, reference_run.name)
    reference = launch(reference_recipe, [], tmp_path / "reference.log", fresh=True)
    recipe = _write_recipe(tmp_path, run.name)

    rng = random.Random(SEED)
    plan, done, history = _plan(rng), [], []
    flags: list[str] = []  # the first process starts the run; every later one resumes it
    for attempt in range(LAUNCH_LIMIT):
        log, before = tmp_path / f"killed-{attempt}.log", _snapshot(run)
        process = launch(recipe, flags, log)
        if plan and _kill_at(process, run, plan[0], rng):
            kill = plan.pop(0)
            kill.wrote_nothing = _snapshot(run) == before
            history.append(f"{' '.join(flags) or '(new run)'}: SIGKILL, {kill}")
            done.append((bool(flags), kill))
            flags = ["--resume"]
            continue
        process.wait(timeout=PROCESS_TIMEOUT)
        output = log.read_text()
        history.append(f"{' '.join(flags) or '(new run)'}: exit {process.returncode}")
        if process.returncode == 0:
            break
        if _is_restart_refusal(process.returncode, output) and "--restart" not in flags:
            flags = ["--resume", "--restart"]
            continue
        story = "\n".join(history)
        pytest.fail(
            f"`coopkit run {' '.join(flags)}` exited {process.returncode}:\n{output}\n"
            f"history:\n{story}"
        )
    story = "\n".join(history)
    print(story)
    assert process.returncode == 0, f"not finished after {LAUNCH_LIMIT} launches:\n{story}"
    assert not plan, f"the run finished before every planned kill:\n{story}"
    assert any("checkpoint write" in kill.landed for _, kill in done), story
    assert any(resumed and kill.wrote_nothing for resumed, kill in done), story

    reference.wait(timeout=PROCESS_TIMEOUT)
    assert reference.returncode == 0, (tmp_path / "reference.log").read_text()

    final = f"checkpoints/iter_{ITERATIONS:07d}.safetensors"
    expected, got = load_file(reference_run / final), load_file(run / final)
    assert sorted(got) == sorted(expected), story
    different = [name for name in expected if not torch.equal(expected[name], got[name])]
    assert not different, f"tensors differ after the kills: {different}\n{story}"

    expected_lines = _iteration_lines(reference_run / "metrics.jsonl")
    lines = _iteration_lines(run / "metrics.jsonl")
    assert [line["iteration"] for line in expected_lines] == list(range(1, ITERATIONS + 1))
    assert [line["iteration"] for line in lines] == list(range(1, ITERATIONS + 1)), story
    for want, have in zip(expected_lines, lines, strict=True):
        assert _without_timings(have) == _without_timings(want), f"{have}\n{story}"
