"""Divergence with ``train.on_divergence = "rollback"`` (the default): NaNs injected into each
phase of a CoopNets iteration send the run back to its last good state with smaller steps."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import coopkit
from coopkit.core import SampleResult
from coopkit.engine.checkpoint import list_checkpoints
from coopkit.errors import CoopkitWarning, TrainingDiverged

FAULT_AT = 3  # the iteration (1-based) whose phase goes wrong


def once(at_call: int, wrapped, spoil):
    """``wrapped`` with its result (or, for ``spoil=None``, the run's weights) spoiled on one call."""
    calls = {"n": 0}

    def call(*args, **kwargs):
        calls["n"] += 1
        result = wrapped(*args, **kwargs)
        return spoil(result) if calls["n"] == at_call else result

    return call


def nan_like(x: torch.Tensor) -> torch.Tensor:
    return torch.full_like(x, float("nan"))


def spoil_weights(model: torch.nn.Module):
    def spoil(result):
        with torch.no_grad():
            next(model.parameters()).fill_(float("nan"))
        return result

    return spoil


def inject(run, phase: str) -> None:
    """Makes Step ``phase`` of iteration FAULT_AT produce NaNs (once)."""
    if phase == "G0":  # the generator runs once per iteration (G2 reuses G0's output), and once
        # before the first, when the engine checks what it returns (coopkit/engine/contracts.py)
        spoiled = once(FAULT_AT + 1, run.generator.forward, lambda y: y * float("nan"))
        run.generator.forward = spoiled
    elif phase == "D1":
        run.sampler.run = once(
            FAULT_AT, run.sampler.run, lambda r: SampleResult(nan_like(r.x), r.stats)
        )
    elif phase == "G1":
        run.teacher.infer = once(FAULT_AT, run.teacher.infer, lambda r: (nan_like(r[0]), r[1]))
    elif phase == "D2":
        step = run.descriptor_optimizer.step
        run.descriptor_optimizer.step = once(FAULT_AT, step, spoil_weights(run.descriptor))
    elif phase == "G2":
        step = run.generator_optimizer.step
        run.generator_optimizer.step = once(FAULT_AT, step, spoil_weights(run.generator))


def recipe(write_recipe, name="tiny", teacher=None, **train):
    return write_recipe(
        name,
        **({"teacher": teacher} if teacher else {}),
        train={"iterations": 6, **train},
        output={"checkpoint_every": 2, "sample_every": 100, "keep_checkpoints": 2},
    )


def untimed(lines: list[dict]) -> str:
    return json.dumps([{k: v for k, v in m.items() if not k.startswith("seconds")} for m in lines])


def events(run) -> list[dict]:
    return [line for line in run.directory.read_metrics() if "event" in line]


@pytest.mark.parametrize("phase", ["G0", "D1", "G1", "D2", "G2"])
def test_nan_in_any_phase_rolls_back_to_the_last_checkpoint_with_halved_steps(
    host, write_recipe, phase
):
    # G1 does something only when the teacher infers latents (mcmc-teaching keeps X = X̂)
    inference = {"teacher": {"name": "langevin-inference", "steps": 2}} if phase == "G1" else {}
    run = coopkit.build(recipe(write_recipe, **inference), host=host)
    inject(run, phase)
    with pytest.warns(CoopkitWarning, match="rolled back to .*iter_0000002"):
        run.fit(progress=False)
    assert run.iteration == 6
    (event,) = events(run)
    assert event["event"] == "rollback" and event["iteration"] == 2
    assert event["diverged_at"] == FAULT_AT and event["rollbacks"] == 1
    assert event["sampler_step_size"] == pytest.approx(0.05)
    assert event["descriptor_lr"] == event["generator_lr"] == pytest.approx(0.0005)
    iterations = [m["iteration"] for m in run.directory.iteration_metrics()]
    assert iterations == [1, 2, 3, 4, 5, 6]  # the diverged iteration's line was replaced
    for path in list_checkpoints(run.directory.checkpoints):
        tensors = load_file(path)
        assert all(torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point())
    with safe_open(str(path), framework="pt") as handle:
        assert handle.metadata()["rollbacks"] == "1"
    assert run.sampler.params.step_size == pytest.approx(0.05)


def test_before_the_first_checkpoint_it_rolls_back_to_the_start(host, write_recipe):
    path = write_recipe(
        train={"iterations": 4}, output={"checkpoint_every": 10, "sample_every": 100}
    )
    run = coopkit.build(path, host=host)
    inject(run, "D1")
    with pytest.warns(CoopkitWarning, match="the start of training"):
        run.fit(progress=False)
    (event,) = events(run)
    assert event["iteration"] == 0 and event["restored"] == "the start of training"
    assert run.iteration == 4


def test_persistent_chains_restart_from_p0_when_it_rolls_back_to_the_start(host, write_recipe):
    """Algorithm D's buffer holds the diverged revisions; the start of training had none, so the
    chains after the rollback start from p0 again (kept, they diverged on every retry)."""
    train = {"iterations": 4, "algorithm": "descriptor", "chain_init": "persistent"}
    path = write_recipe(train=train, output={"checkpoint_every": 10, "sample_every": 100})
    run = coopkit.build(path, host=host)
    inject(run, "D1")
    with pytest.warns(CoopkitWarning, match="the start of training"):
        run.fit(progress=False)
    (event,) = events(run)
    assert event["restored"] == "the start of training" and event["rollbacks"] == 1
    assert run.iteration == 4 and bool(torch.isfinite(run.algorithm.buffer).all())


def test_stop_exits_at_once_and_repeated_divergence_stops_after_max_rollbacks(host, write_recipe):
    stop = coopkit.build(recipe(write_recipe, "stop", on_divergence="stop"), host=host)
    inject(stop, "D1")
    with pytest.raises(TrainingDiverged, match="iter_0000002"):
        stop.fit(progress=False)
    assert stop.iteration == FAULT_AT and not events(stop)

    stubborn = coopkit.build(recipe(write_recipe, "stubborn", max_rollbacks=2), host=host)
    run_sampler = stubborn.sampler.run
    stubborn.sampler.run = lambda *a: SampleResult(nan_like(run_sampler(*a).x))
    with pytest.warns(CoopkitWarning), pytest.raises(TrainingDiverged, match="after 2 rollback"):
        stubborn.fit(progress=False)
    assert [e["rollbacks"] for e in events(stubborn)] == [1, 2]
    assert not list_checkpoints(stubborn.directory.checkpoints)


def test_a_rolled_back_run_resumes_bit_identically(host, write_recipe):
    """The shrunken steps live in the checkpoint (``rollbacks``), so a resumed run goes on with
    them: interrupted after its first checkpoint past the rollback, it ends where an
    uninterrupted run ends."""
    whole = coopkit.build(recipe(write_recipe, "whole"), host=host)
    inject(whole, "D1")
    with pytest.warns(CoopkitWarning):
        whole.fit(progress=False)

    path = recipe(write_recipe, "parts")
    first = coopkit.build(path, host=host)
    inject(first, "D1")
    first.recipe.train.iterations = 4
    with pytest.warns(CoopkitWarning):
        first.fit(progress=False)
    second = coopkit.build(path, host=host)
    second.fit(progress=False, resume=True)

    final = "checkpoints/iter_0000006.safetensors"
    expected = load_file(whole.directory.path / final)
    resumed = load_file(second.directory.path / final)
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    assert untimed(whole.directory.read_metrics()) == untimed(second.directory.read_metrics())


def test_resume_takes_the_recipes_new_learning_rate(host, write_recipe):
    """The fix a diverged run's message suggests — resume with a smaller learning rate — works:
    the optimizer's restored state does not override the recipe."""
    path = recipe(write_recipe, iterations=2)
    coopkit.build(path, host=host).fit(progress=False)
    resumed = coopkit.build(path, ["train.iterations=4", "train.descriptor_lr=0.0001"], host=host)
    resumed.fit(progress=False, resume=True)
    assert resumed.descriptor_optimizer.param_groups[0]["lr"] == pytest.approx(0.0001)
