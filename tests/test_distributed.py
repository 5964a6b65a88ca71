"""Training on two processes with torch.distributed (gloo, CPU), started the way torchrun starts
them (RANK, WORLD_SIZE, MASTER_ADDR/PORT in the environment): the update equals one process's on
the same global batch and chains, rank 0 alone writes, a distributed run resumes (on as many or
on fewer processes), its checkpoint loads in one process, Algorithm G and persistent
chains update as one process, a killed or a hung process stops the other with a message, and
`coopkit bench` reports every rank's throughput."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import coopkit_process
import numpy as np
import pytest
import tomli_w
import torch
from coopkit_process import CoopkitProcess
from safetensors.torch import load_file
from tiny_nets import tiny_nets

import coopkit
from coopkit.engine.checkpoint import read_checkpoint
from coopkit.engine.distributed import (
    Single,
    check_divisible,
    rank_seed,
    wants_distributed,
)
from coopkit.errors import CoopkitWarning, RecipeError, UserError

ITERATIONS = 4
PROCESS_TIMEOUT = 90.0  # seconds a launched process may take before the test gives up on it
# Float sums in another order (each process's mean, then the mean of the two): measured 1.2e-7.
TOLERANCE = 1e-5

# The nets of test_kill_resume.py, without batch norm (per-process batch statistics would differ
# from one process's), and noise-free Langevin: the draft latents come from the stream every
# process shares, so with no other randomness both runs draw exactly the same chains.
RECIPE = {
    "schema_version": 1,
    "description": "two processes",
    "seed": 0,
    **tiny_nets(normalization="none"),
    "sampler": {"name": "langevin", "steps": 2, "step_size": 0.002, "noise": False},
    "train": {"iterations": ITERATIONS, "chains": 4, "batch_size": 4, "device": "cpu"},
    "output": {"sample_every": 2, "checkpoint_every": 2, "keep_checkpoints": 3},
}


def _write_recipe(
    folder: Path,
    name: str,
    images: Path,
    edit: Callable[[dict], None] | None = None,
    **train: object,
) -> Path:
    recipe = copy.deepcopy(RECIPE)
    recipe["data"] = {"name": "arrays", "path": str(images)}
    recipe["train"].update(train)
    recipe["output"]["dir"] = str(folder / name)
    if edit is not None:
        edit(recipe)
    path = folder / f"{name}.toml"
    path.write_text(tomli_w.dumps(recipe))
    return path


def _free_port() -> int:
    return _free_ports(1)[0]


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (their sockets are held open together while picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _child_environment() -> dict[str, str]:
    """This environment for a process the test starts: one thread, wide plain output."""
    single_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return {**os.environ, **single_thread, "COLUMNS": "300", "NO_COLOR": "1"}


def _torchrun_environment(rank: int, world: int, port: int) -> dict[str, str]:
    """What torchrun gives process ``rank`` of ``world`` (one thread each)."""
    env = _child_environment()
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    return env


def _launch(recipe: Path, log: Path, *flags: str, world: int = 2) -> list[CoopkitProcess]:
    """``world`` processes of `coopkit run`, with the environment torchrun gives."""
    port = _free_port()
    return [
        coopkit_process.start(
            ["run", str(recipe), "--no-progress", *flags],
            _torchrun_environment(rank, world, port),
            log.parent / f"{log.name}.{rank}",
        )
        for rank in range(world)
    ]


def _finish(processes: list[CoopkitProcess], log: Path) -> None:
    try:
        codes = [p.wait(timeout=PROCESS_TIMEOUT) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    logs = [(log.parent / f"{log.name}.{rank}").read_text() for rank in range(len(processes))]
    assert codes == [0] * len(processes), logs


def _stop_rank_1_after_3_iterations(
    processes: list[CoopkitProcess], metrics: Path, signal_number: int, wait: float
) -> tuple[int, float]:
    """Sends rank 1 ``signal_number`` once 3 iterations are logged; rank 0's exit code and the
    seconds it took to exit after the signal (what is left is killed)."""
    try:
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
            assert time.monotonic() < deadline, "the run did not start"
            assert all(p.poll() is None for p in processes), "a process ended early"
            time.sleep(0.05)
        processes[1].send_signal(signal_number)
        sent = time.monotonic()
        code = processes[0].wait(timeout=wait)
        return code, time.monotonic() - sent
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()  # SIGKILL ends a stopped process too


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    tensors = load_file(str(checkpoint))
    return {k: v for k, v in tensors.items() if k.startswith(("descriptor.", "generator."))}


def _assert_close(found: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert found.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(found[name], value, rtol=0, atol=TOLERANCE, msg=name)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """The data every run here trains on: 32 random 8×8 gray images."""
    path = tmp_path_factory.mktemp("data") / "images.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, size=(32, 8, 8), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory, images) -> Path:
    """The data, and a run of ITERATIONS iterations on two processes (checkpoints at 2 and 4)."""
    folder = tmp_path_factory.mktemp("distributed")
    shutil.copy(images, folder / "images.npy")
    recipe = _write_recipe(folder, "two", folder / "images.npy")
    _finish(_launch(recipe, folder / "two.log", "train.strategy=ddp"), folder / "two.log")
    return folder


def test_two_processes_update_as_one_process_on_the_global_batch(folder, tmp_path):
    one = coopkit.build(_write_recipe(tmp_path, "one", folder / "images.npy")).fit(progress=False)
    two = folder / "two"
    _assert_close(
        _weights(two / "checkpoints" / "iter_0000004.safetensors"),
        _weights(one.directory.checkpoints / "iter_0000004.safetensors"),
    )
    # rank 0 alone wrote: one metrics line per iteration, means over both processes
    lines = [json.loads(line) for line in (two / "metrics.jsonl").read_text().splitlines()]
    expected = one.directory.iteration_metrics()
    assert [line["iteration"] for line in lines] == [1, 2, 3, 4]
    for line, alone in zip(lines, expected, strict=True):
        for key in ("descriptor_loss", "f_observed", "f_revised", "generator_loss"):
            assert line[key] == pytest.approx(alone[key], rel=1e-4, abs=1e-9), key
    assert (two / "report.md").is_file()
    assert sorted(p.name for p in (two / "samples").glob("iter_0000004_*")) == [
        "iter_0000004_S1_draft.png",
        "iter_0000004_S2_revision.png",
        "iter_0000004_S3_reconstruction.png",
    ]
    # each process's own streams are kept, different from one another
    tensors, metadata = read_checkpoint(two / "checkpoints" / "iter_0000004.safetensors")
    assert metadata["world_size"] == "2"
    assert not torch.equal(tensors["rng.rank0.engine"], tensors["rng.rank1.engine"])


def _generator_alone(recipe: dict) -> None:
    """Algorithm G: no descriptor, the latents inferred by noise-free Langevin."""
    del recipe["descriptor"], recipe["sampler"]
    recipe["teacher"] = {
        "name": "langevin-inference",
        "steps": 2,
        "step_size": 0.1,
        "sampler_options": {"noise": False},
    }


def _descriptor_alone(recipe: dict) -> None:
    del recipe["generator"]


# The runs one pair of spawned processes makes one after another, each a whole distributed run
# with its own process group: name → (recipe edit, train settings).
SCENARIOS: dict[str, tuple[Callable[[dict], None] | None, dict[str, object]]] = {
    "generator": (_generator_alone, {"algorithm": "generator"}),
    "persistent": (
        _descriptor_alone,
        {"algorithm": "descriptor", "chain_init": "persistent", "persistent_reinit": 0.5},
    ),
    "fault": (None, {}),  # rank 1 alone finds its iteration 3 diverged
}
# a run whose other process is gone fails within this, and the next scenario still runs
SCENARIO_TIMEOUT = 30.0


def _scenario_recipe(folder: Path, name: str, scenario: str, images: Path) -> Path:
    edit, train = SCENARIOS[scenario]
    return _write_recipe(folder, name, images, edit, **train)


def _diverge_at_iteration_3(run: coopkit.Run) -> None:
    """This process alone finds iteration 3 diverged; its metrics and weights stay finite, so
    the other process learns of it only through the engine's vote."""
    diagnose, calls = run.guard.diagnose, {"n": 0}

    def diverged_once(metrics):
        calls["n"] += 1
        return "diverged here alone" if calls["n"] == 3 else diagnose(metrics)

    run.guard.diagnose = diverged_once


def _rank_of_every_scenario(rank: int, folder: Path, ports: dict[str, int]) -> None:
    """One process of the pair (started by torch.multiprocessing, with the environment torchrun
    gives): each scenario's run in turn; where it ended, or the error it raised, goes to
    ``SCENARIO/rank<r>.json``."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1")
    torch.set_num_threads(1)
    for scenario, port in ports.items():
        os.environ["MASTER_PORT"] = str(port)
        timeout = f"train.distributed_timeout={SCENARIO_TIMEOUT}"
        try:
            run = coopkit.build(folder / f"{scenario}.toml", ["train.strategy=ddp", timeout])
            with warnings.catch_warnings():
                if scenario == "fault":  # the rollback's warning is expected there
                    warnings.simplefilter("ignore", CoopkitWarning)
                    if rank == 1:
                        _diverge_at_iteration_3(run)
                run.fit(progress=False)
            ended: dict[str, object] = {"iteration": run.iteration, "rollbacks": run.rollbacks}
        except Exception as error:  # reported by the scenario's own test
            ended = {"error": f"{type(error).__name__}: {error}"}
        (folder / scenario).mkdir(exist_ok=True)
        (folder / scenario / f"rank{rank}.json").write_text(json.dumps(ended))


def _ended(spawned: Path, scenario: str) -> list[dict]:
    """Where each process's run of ``scenario`` ended (or the error it raised)."""
    return [json.loads((spawned / scenario / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.fixture(scope="module")
def spawned(images, tmp_path_factory) -> Path:
    """Every run of SCENARIOS, made by one pair of processes: starting a process (importing torch
    and the plugins) costs more than these runs."""
    spawned = tmp_path_factory.mktemp("spawned")
    for scenario in SCENARIOS:
        _scenario_recipe(spawned, scenario, scenario, images)
    ports = dict(zip(SCENARIOS, _free_ports(len(SCENARIOS)), strict=True))
    coopkit_process.server()  # the processes fork from the server with torch imported
    torch.multiprocessing.start_processes(
        _rank_of_every_scenario, args=(spawned, ports), nprocs=2, start_method="forkserver"
    )
    return spawned


def _two_and_one_process(
    images: Path, spawned: Path, tmp_path: Path, scenario: str
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The tensors of the last checkpoint of ``scenario`` run by two processes, and by one."""
    assert _ended(spawned, scenario) == [{"iteration": ITERATIONS, "rollbacks": 0}] * 2
    one = coopkit.build(_scenario_recipe(tmp_path, "one", scenario, images))
    one.fit(progress=False)
    name = f"iter_{ITERATIONS:07d}.safetensors"
    two = load_file(str(spawned / scenario / "checkpoints" / name))
    return two, load_file(str(one.directory.checkpoints / name))


@pytest.mark.slow
def test_two_machines_through_torchrun_rendezvous_update_as_two_processes(folder, tmp_path):
    """Two torchrun agents, as on two machines (``--nnodes 2``, one process each, c10d
    rendezvous): each process is local rank 0 of its node, and global rank 0 alone writes."""
    recipe = _write_recipe(tmp_path, "nodes", folder / "images.npy")
    endpoint = f"127.0.0.1:{_free_port()}"
    environment = _child_environment()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2"]
    torchrun += ["--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-id", "nodes"]
    torchrun += ["--rdzv-endpoint", endpoint, "-m", "coopkit", "run", str(recipe), "--no-progress"]
    nodes = []
    for node in range(2):
        with (tmp_path / f"node.log.{node}").open("w") as out:
            nodes.append(subprocess.Popen(torchrun, stdout=out, stderr=out, env=environment))
    _finish(nodes, tmp_path / "node.log")
    name = f"iter_{ITERATIONS:07d}.safetensors"
    _assert_close(
        _weights(tmp_path / "nodes" / "checkpoints" / name),
        _weights(folder / "two" / "checkpoints" / name),
    )
    metrics = (tmp_path / "nodes" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in metrics] == [1, 2, 3, 4]
    spoke = ["done: 4 iterations" in (tmp_path / f"node.log.{n}").read_text() for n in range(2)]
    assert sorted(spoke) == [False, True]  # which agent hosts rank 0 is the rendezvous' choice


def test_algorithm_g_on_two_processes_updates_as_one_process(images, spawned, tmp_path):
    """Algorithm G: each process infers the latents of its share of the batch; the table of
    every example's latents is the single process's on every process (rank 0 checkpoints it)."""
    found, expected = _two_and_one_process(images, spawned, tmp_path, "generator")
    shared = [k for k in expected if k.startswith("generator.") or "latents" in k]
    assert any("latents" in k for k in shared)
    _assert_close({k: found[k] for k in shared}, {k: expected[k] for k in shared})
    samples = sorted(p.name for p in (spawned / "generator" / "samples").glob("iter_0000004_*"))
    assert samples == ["iter_0000004_S1_draft.png", "iter_0000004_S3_reconstruction.png"]


def test_persistent_chains_on_two_processes_evolve_as_in_one_process(images, spawned, tmp_path):
    """Algorithm D with a persistent buffer (PCD): each process revises its share of the chains;
    the whole buffer — restarts included, drawn from the shared stream — is the single process's
    on every process, and rank 0 checkpoints it."""
    found, expected = _two_and_one_process(images, spawned, tmp_path, "persistent")
    shared = [k for k in expected if k.startswith("descriptor.") or "buffer" in k]
    buffers = [k for k in shared if "buffer" in k]
    assert buffers and expected[buffers[0]].shape[0] == RECIPE["train"]["chains"]
    _assert_close({k: found[k] for k in shared}, {k: expected[k] for k in shared})


def test_a_distributed_checkpoint_loads_in_one_process(folder):
    run = coopkit.load(folder / "two")
    assert run.iteration == ITERATIONS
    saved = _weights(folder / "two" / "checkpoints" / "iter_0000004.safetensors")
    for name, value in run.descriptor.state_dict().items():
        assert torch.equal(value, saved[f"descriptor.{name}"])
    samples = run.sample(3, seed=1)
    assert samples.shape == (3, 1, 8, 8) and bool(torch.isfinite(samples).all())


def _cut_back_to_iteration_2(source: Path, target: Path) -> None:
    shutil.copytree(source, target)
    (target / "checkpoints" / "iter_0000004.safetensors").unlink()


def test_a_distributed_run_resumes_on_two_processes_bit_identically_and_on_one(folder, tmp_path):
    expected = _weights(folder / "two" / "checkpoints" / "iter_0000004.safetensors")
    # on two processes again: every stream is restored, the result is bit-identical
    _cut_back_to_iteration_2(folder / "two", tmp_path / "two")
    recipe = _write_recipe(tmp_path, "two", folder / "images.npy")
    _finish(
        _launch(recipe, tmp_path / "two.log", "train.strategy=ddp", "--resume"),
        tmp_path / "two.log",
    )
    resumed = _weights(tmp_path / "two" / "checkpoints" / "iter_0000004.safetensors")
    assert all(torch.equal(resumed[k], v) for k, v in expected.items())
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [1, 2, 3, 4]
    # on one process (another number of processes): the same global batch and chains
    _cut_back_to_iteration_2(folder / "two", tmp_path / "one")
    run = coopkit.build(_write_recipe(tmp_path, "one", folder / "images.npy")).fit(
        progress=False, resume=True
    )
    assert run.iteration == ITERATIONS
    _assert_close(_weights(run.directory.checkpoints / "iter_0000004.safetensors"), expected)


def test_a_killed_process_stops_the_other_with_a_message(folder, tmp_path):
    recipe = _write_recipe(tmp_path, "killed", folder / "images.npy", iterations=100_000)
    log = tmp_path / "killed.log"
    overrides = ["train.strategy=ddp", "output.checkpoint_every=1", "output.sample_every=1000"]
    processes = _launch(recipe, log, *overrides)
    metrics = tmp_path / "killed" / "metrics.jsonl"
    code, seconds = _stop_rank_1_after_3_iterations(processes, metrics, signal.SIGKILL, wait=30)
    output = (tmp_path / "killed.log.0").read_text()
    assert code == 1, output
    assert "another process died or did not answer" in output
    assert "Continue with --resume" in output
    assert "Traceback" not in output
    assert seconds < 10  # noticed at once: a dead peer closes its connections
    latest = sorted((tmp_path / "killed" / "checkpoints").glob("iter_*.safetensors"))[-1]
    read_checkpoint(latest)  # whole: reads back and matches its digest


def test_a_hung_process_stops_the_other_within_the_timeout(folder, tmp_path):
    # the same limit holds for start-up, when the processes meet, and for every collective, which
    # waits out the other process's fsynced checkpoint writes: 8 s leaves room for a busy machine
    timeout = 8.0
    recipe = _write_recipe(tmp_path, "hung", folder / "images.npy", iterations=100_000)
    log = tmp_path / "hung.log"
    overrides = [
        "train.strategy=ddp",
        f"train.distributed_timeout={timeout}",
        "output.checkpoint_every=1",
        "output.sample_every=1000",
    ]
    processes = _launch(recipe, log, *overrides)
    metrics = tmp_path / "hung" / "metrics.jsonl"
    # SIGSTOP: alive, its connections open, silent
    code, seconds = _stop_rank_1_after_3_iterations(
        processes, metrics, signal.SIGSTOP, wait=timeout + 25
    )
    output = (tmp_path / "hung.log.0").read_text()
    assert code == 1, output
    assert "another process died or did not answer within train.distributed_timeout = 8 s" in (
        output
    )
    assert "Continue with --resume" in output
    assert "Traceback" not in output
    assert timeout - 0.5 < seconds < timeout + 10, seconds
    latest = sorted((tmp_path / "hung" / "checkpoints").glob("iter_*.safetensors"))[-1]
    assert str(latest) in output.replace("\n", "")  # the message names it
    read_checkpoint(latest)  # whole: reads back and matches its digest


def test_bench_on_two_processes_reports_every_rank_and_the_sum(folder, tmp_path):
    recipe = _write_recipe(tmp_path, "bench", folder / "images.npy")
    port, processes, outputs = _free_port(), [], []
    command = ["bench", str(recipe), "train.strategy=ddp", "--iterations", "2", "--json"]
    for rank in range(2):
        out, err = tmp_path / f"bench.{rank}.out", tmp_path / f"bench.{rank}.err"
        outputs.append((out, err))
        environment = _torchrun_environment(rank, 2, port)
        processes.append(coopkit_process.start(command, environment, out, err))
    try:
        codes = [p.wait(timeout=PROCESS_TIMEOUT) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert codes == [0, 0], [err.read_text() for _, err in outputs]
    assert outputs[1][0].read_text() == ""  # rank 1 prints nothing
    report = json.loads(outputs[0][0].read_text())  # rank 0: one JSON object
    assert report["seconds_per_iteration"] > 0 and "phases" in report
    distributed = report["distributed"]
    assert distributed["world_size"] == 2
    ranks = distributed["per_rank"]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert [(r["chains"], r["examples"]) for r in ranks] == [(2, 2), (2, 2)]  # 4 chains, 4 examples
    for figures in ranks:
        assert figures["seconds_per_iteration"] > 0
        assert figures["examples_per_second"] == pytest.approx(2 / figures["seconds_per_iteration"])
    assert ranks[0]["seconds_per_iteration"] == report["seconds_per_iteration"]
    aggregate = distributed["aggregate"]
    assert aggregate["seconds_per_iteration"] == max(r["seconds_per_iteration"] for r in ranks)
    assert aggregate["examples_per_second"] == pytest.approx(
        sum(r["examples_per_second"] for r in ranks)
    )
    assert aggregate["chains_per_second"] == pytest.approx(
        sum(r["chains_per_second"] for r in ranks)
    )
    assert not (tmp_path / "bench").exists()  # bench writes nothing


def test_one_diverging_process_rolls_every_process_back(spawned):
    assert _ended(spawned, "fault") == [{"iteration": ITERATIONS, "rollbacks": 1}] * 2
    metrics = (spawned / "fault" / "metrics.jsonl").read_text().splitlines()
    events = [line for line in map(json.loads, metrics) if "event" in line]
    assert [(e["event"], e["diverged_at"], e["iteration"]) for e in events] == [("rollback", 3, 2)]


# ---------------------------------------------------------------------- in one process


def test_counts_must_split_evenly_across_the_processes():
    check_divisible("r.toml", 2, chains=4, batch_size=2)
    with pytest.raises(RecipeError) as caught:
        check_divisible("r.toml", 2, chains=3, batch_size=4)
    assert "train.chains" in str(caught.value) and "multiple of 2" in str(caught.value)


def test_strategy_follows_the_launcher(monkeypatch):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not wants_distributed("auto") and not wants_distributed("ddp")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not wants_distributed("auto") and wants_distributed("ddp")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert wants_distributed("auto") and not wants_distributed("single")


def test_ddp_without_torchrun_is_a_user_error(tmp_path, monkeypatch):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    np.save(tmp_path / "images.npy", np.zeros((4, 8, 8), dtype=np.uint8))
    recipe = _write_recipe(tmp_path, "run", tmp_path / "images.npy")
    run = coopkit.build(recipe, ["train.strategy=ddp"])
    with pytest.raises(UserError, match="torchrun --nproc-per-node N -m coopkit run"):
        run.fit(progress=False)
    assert not (tmp_path / "run").exists()


def test_one_process_draws_as_before():
    rng, again = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    drawn = Single().draw(lambda n, g: torch.randn(n, 2, generator=g), 4, rng)
    assert torch.equal(drawn, torch.randn(4, 2, generator=again))
    seeds = {rank_seed(0, rank, 0) for rank in range(4)} | {rank_seed(1, 0, 0), rank_seed(0, 0, 2)}
    assert len(seeds) == 6
