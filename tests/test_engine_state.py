"""The training state a checkpoint holds (coopkit.engine.checkpoint.TrainingState) and the events
a run sends (coopkit.engine.events): what goes in comes back, and where the randomness resumes."""

from __future__ import annotations

import json

import pytest
import torch

import coopkit
from coopkit.engine.checkpoint import read_checkpoint, write_checkpoint
from coopkit.engine.events import RunEvents, RunHost
from coopkit.engine.run import Run
from coopkit.errors import CheckpointError


def test_a_checkpoint_from_another_device_reseeds_from_its_own_iteration(
    host, write_recipe, tmp_path
):
    # A CUDA generator's state means nothing on the CPU, so the engine's generator is seeded
    # afresh from the checkpoint's iteration: whatever the run loading it had done before.
    recipe = write_recipe("two", train={"iterations": 2})
    saved = coopkit.build(recipe, host=host).fit(progress=False).directory.latest_checkpoint()
    tensors, metadata = read_checkpoint(saved)
    assert json.loads(metadata["iteration"]) == 2
    foreign = tmp_path / "from_cuda.safetensors"
    write_checkpoint(foreign, tensors, {**metadata, "device_type": "cuda"})

    fresh = coopkit.build(recipe, host=host)  # at iteration 0
    trained_on = coopkit.build(write_recipe("four", train={"iterations": 4}), host=host)
    trained_on.fit(progress=False)  # at iteration 4
    for run in (fresh, trained_on):
        run.load_checkpoint(foreign)
        assert run.iteration == 2
    expected = torch.Generator().manual_seed(fresh.recipe.seed + 1 + 2).get_state()
    assert torch.equal(fresh.rng.get_state(), expected)
    assert torch.equal(trained_on.rng.get_state(), expected)
    # the data order is the CPU's and comes back as it was
    assert torch.equal(fresh.data_rng.get_state(), tensors["rng.data"])


def test_a_checkpoint_from_this_device_restores_every_generator(host, write_recipe):
    run = coopkit.build(write_recipe(train={"iterations": 2}), host=host).fit(progress=False)
    tensors, _ = read_checkpoint(run.directory.latest_checkpoint())
    torch.manual_seed(123)  # the global generator moves on
    loaded = coopkit.load(run.directory.path, host=host)
    assert torch.equal(loaded.rng.get_state(), tensors["rng.engine"])
    assert torch.equal(loaded.data_rng.get_state(), tensors["rng.data"])
    assert torch.equal(torch.get_rng_state(), tensors["rng.torch"])


def test_state_round_trips_through_capture_and_restore(host, write_recipe):
    run = coopkit.build(write_recipe(train={"iterations": 2}), host=host).fit(progress=False)
    tensors, metadata = run.state_tensors()
    kept = {k: v.clone() for k, v in tensors.items()}
    assert {k.split(".")[0] for k in kept} == {
        "descriptor",
        "generator",
        "optimizer",
        "rng",
    }
    other = coopkit.build(write_recipe("other"), host=host)
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    other._restore(tensors, flat, "memory")
    assert other.iteration == 2
    again, _ = other.state_tensors()
    assert again.keys() == kept.keys()
    assert all(torch.equal(again[k], kept[k]) for k in kept)


def test_a_checkpoint_of_other_components_names_itself(host, write_recipe, tmp_path):
    run = coopkit.build(write_recipe(train={"iterations": 2}), host=host).fit(progress=False)
    tensors, metadata = read_checkpoint(run.directory.latest_checkpoint())
    del tensors["rng.data"]
    broken = tmp_path / "broken.safetensors"
    write_checkpoint(broken, tensors, metadata)
    with pytest.raises(CheckpointError, match="broken.safetensors: does not match"):
        coopkit.build(write_recipe("again"), host=host).load_checkpoint(broken)


class Recorder:
    """Events as a plain object receives them: no plugin host involved."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def call_event(self, hook_name, **kwargs):
        self.calls.append((hook_name, kwargs))


def test_a_run_sends_its_events_to_any_receiver(host, write_recipe):
    built = coopkit.build(write_recipe(train={"iterations": 3}), host=host)
    recorder = Recorder()
    assert isinstance(recorder, RunEvents) and isinstance(host, RunHost)
    run = Run(built.recipe, built.specs, host, events=recorder).fit(progress=False)
    names = [name for name, _ in recorder.calls]
    assert names == ["coopkit_run_start", *["coopkit_log_step"] * 3, "coopkit_run_end"]
    steps = [kwargs for name, kwargs in recorder.calls if name == "coopkit_log_step"]
    assert [s["iteration"] for s in steps] == [1, 2, 3]
    assert all(s["run"] is run and s["metrics"]["iteration"] == s["iteration"] for s in steps)
    assert recorder.calls[-1][1] == {"run": run, "interrupted": False}
