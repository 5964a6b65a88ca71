"""The training engine end to end on tiny images: outputs, checkpoints, load, resume, baselines."""

from __future__ import annotations

import json

import pytest
import torch

import coopkit
from coopkit.engine.steps import density_shift
from coopkit.errors import CheckpointError, UserError
from coopkit.testing import assert_close_at_scale


def test_coopnets_end_to_end_writes_every_output(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host)
    run.fit(progress=False)
    out = run.directory.path
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == [1, 2, 3, 4]
    for key in (
        "descriptor_loss",
        "generator_loss",
        "f_observed",
        "f_draft",
        "f_revised",
        "revision_displacement",
        "revision_energy_start",
        "energy_revised",
        "seconds_G0",
        "seconds_D1",
        "seconds_G1",
        "seconds_D2",
        "seconds_G2",
    ):
        assert key in lines[-1], key
    assert lines[-1]["revision_displacement"] > 0
    samples = sorted(p.name for p in (out / "samples").iterdir())
    assert "observed.png" in samples
    for stage in ("S1_draft", "S2_revision", "S3_reconstruction"):
        assert f"iter_0000004_{stage}.png" in samples
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "iter_0000002.safetensors",
        "iter_0000004.safetensors",
    ]
    assert "[sampler]" in (out / "recipe.toml").read_text()
    assert "Final metrics" in (out / "report.md").read_text()


def test_samples_have_the_data_shape_and_start_from_the_generators_drafts(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host)
    assert run.sample(3, seed=0).shape == (3, 1, 8, 8)
    assert run.generate(5, seed=0).shape == (5, 1, 8, 8)
    # no revision steps: a sample is the generator's draft from the same latents
    torch.testing.assert_close(run.sample(3, seed=0, steps=0), run.generate(3, seed=0))


def test_generate_does_not_depend_on_how_many_are_drawn(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    many = run.generate(6, seed=3)
    latents = run.generator.sample_latent(6, torch.Generator().manual_seed(3))
    with torch.no_grad():
        one_at_a_time = torch.cat([run.generator(latents[i : i + 1]) for i in range(6)])
    assert torch.allclose(many, one_at_a_time, atol=1e-6)


def test_save_load_gives_identical_samples(host, write_recipe, tmp_path):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    loaded = coopkit.load(run.directory.path, host=host)
    assert loaded.iteration == 4
    assert torch.equal(run.sample(4, seed=11), loaded.sample(4, seed=11))
    assert torch.equal(run.generate(4, seed=11), loaded.generate(4, seed=11))
    single = run.save(tmp_path / "one.safetensors")
    assert torch.equal(coopkit.load(single, host=host).generate(2, seed=1), run.generate(2, seed=1))


def check_resume_equals_an_uninterrupted_run(host, write_recipe, device: str) -> None:
    train = {"iterations": 6, "device": device}
    straight = coopkit.build(write_recipe("straight", train=train), host=host)
    straight.fit(progress=False)

    recipe = write_recipe("split", train=train, output={"checkpoint_every": 3})
    coopkit.build(recipe, ["train.iterations=3"], host=host).fit(progress=False)
    resumed = coopkit.build(recipe, host=host).fit(progress=False, resume=True)

    assert resumed.iteration == 6
    for name in ("descriptor", "generator"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{key} differs after resume"
    metrics = (resumed.directory.path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(m)["iteration"] for m in metrics] == [1, 2, 3, 4, 5, 6]


def test_resume_equals_an_uninterrupted_run(host, write_recipe):
    check_resume_equals_an_uninterrupted_run(host, write_recipe, "cpu")


def test_resume_equals_an_uninterrupted_run_on_an_accelerator(host, write_recipe, accelerator):
    check_resume_equals_an_uninterrupted_run(host, write_recipe, str(accelerator))


def test_a_run_trained_on_an_accelerator_loads_and_samples_on_the_cpu(
    host, write_recipe, accelerator
):
    run = coopkit.build(write_recipe(train={"device": str(accelerator)}), host=host)
    run.fit(progress=False)
    assert next(run.generator.parameters()).device.type == accelerator.type
    loaded = coopkit.load(run.directory.path, ["train.device=cpu"], host=host)
    assert next(loaded.generator.parameters()).device.type == "cpu"
    for name in ("descriptor", "generator"):
        trained, restored = getattr(run, name).state_dict(), getattr(loaded, name).state_dict()
        for key in trained:
            assert torch.equal(trained[key].cpu(), restored[key]), f"{name}.{key}"
    latents = loaded.generator.sample_latent(4, torch.Generator().manual_seed(2))
    with torch.no_grad():
        on_cpu = loaded.generator.eval()(latents)
        on_accelerator = run.generator.eval()(latents.to(accelerator))
    assert_close_at_scale(on_cpu, on_accelerator.cpu())
    assert loaded.sample(2, seed=1).isfinite().all()


def test_an_existing_run_is_not_overwritten(host, write_recipe):
    recipe = write_recipe()
    coopkit.build(recipe, host=host).fit(progress=False)
    before = (coopkit.build(recipe, host=host).directory.metrics).read_text()
    with pytest.raises(UserError, match="--resume"):
        coopkit.build(recipe, host=host).fit(progress=False)
    assert (coopkit.build(recipe, host=host).directory.metrics).read_text() == before


def test_an_unreadable_checkpoint_is_a_user_error(host, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="broken.safetensors"):
        coopkit.load(bad, host=host)
    with pytest.raises(CheckpointError, match="no such"):
        coopkit.load(tmp_path / "missing", host=host)


def test_descriptor_step_widens_the_gap_between_observed_and_revised(host, write_recipe):
    """Step D2 ascends mean f(observed) − mean f(revised) (eq. 8)."""
    run = coopkit.build(write_recipe(), host=host)
    observed = run.data.batch(torch.arange(4))
    revised = run.sample(4, seed=0).detach()
    score = run.descriptor.score
    gap = lambda: float(score(observed).mean() - score(revised).mean())  # noqa: E731
    with torch.no_grad():
        before = gap()
    stats = density_shift(
        run.descriptor, torch.optim.SGD(run.descriptor.parameters(), lr=1e-4), observed, revised
    )
    assert stats["descriptor_loss"] == pytest.approx(-before, rel=1e-5)
    with torch.no_grad():
        assert gap() > before


def test_descriptor_step_raises_f_on_observed_and_lowers_it_on_revised():
    """With f(Y) = <w, Y> the parameter gradients are the examples themselves: one step moves
    f up on the observed stripes and down on the (unrelated) revised noise."""
    from torch import nn

    from coopkit.core import EnergyModel

    torch.manual_seed(0)
    descriptor = EnergyModel(nn.Sequential(nn.Flatten(), nn.Linear(64, 1, bias=False)))
    observed = torch.cos(torch.arange(8) * torch.pi / 2).expand(4, 1, 8, 8)
    revised = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        f_obs, f_rev = descriptor.score(observed).mean(), descriptor.score(revised).mean()
    density_shift(descriptor, torch.optim.SGD(descriptor.parameters(), lr=0.01), observed, revised)
    with torch.no_grad():
        assert descriptor.score(observed).mean() > f_obs
        assert descriptor.score(revised).mean() < f_rev


@pytest.mark.parametrize("chain_init", ["noise", "data", "persistent"])
def test_algorithm_d_runs_with_each_chain_init(host, write_recipe, chain_init):
    recipe = write_recipe(train={"algorithm": "descriptor", "chain_init": chain_init})
    run = coopkit.build(recipe, host=host).fit(progress=False)
    assert run.generator is None
    samples = sorted(p.name for p in (run.directory.samples).iterdir())
    assert "iter_0000004_S2_revision.png" in samples
    if chain_init == "persistent":
        assert coopkit.load(run.directory.path, host=host).algorithm.buffer.shape == (4, 1, 8, 8)


def test_algorithm_g_learns_to_reconstruct(host, write_recipe):
    recipe = write_recipe(
        teacher={"name": "langevin-inference", "steps": 10, "step_size": 0.1},
        train={"algorithm": "generator", "iterations": 60, "generator_lr": 0.01, "batch_size": 8},
        output={"sample_every": 30, "checkpoint_every": 60},
    )
    run = coopkit.build(recipe, host=host).fit(progress=False)
    losses = [
        json.loads(line)["generator_loss"]
        for line in run.directory.metrics.read_text().splitlines()
    ]
    assert sum(losses[-10:]) < 0.5 * sum(losses[:10])
    assert "iter_0000060_S3_reconstruction.png" in {p.name for p in run.directory.samples.iterdir()}


def test_langevin_inference_teacher_with_coopnets(host, write_recipe):
    recipe = write_recipe(teacher={"name": "langevin-inference", "steps": 2, "generator_steps": 2})
    run = coopkit.build(recipe, host=host).fit(progress=False)
    last = json.loads(run.directory.metrics.read_text().splitlines()[-1])
    assert last["inference_displacement"] > 0


class InterruptAt:
    """A plugin whose step hook raises KeyboardInterrupt (Ctrl-C) at one iteration."""

    def __init__(self, iteration):
        self.iteration = iteration
        self.ended = None

    @coopkit.hookimpl
    def coopkit_log_step(self, iteration):
        if iteration == self.iteration:
            raise KeyboardInterrupt

    @coopkit.hookimpl
    def coopkit_run_end(self, interrupted):
        self.ended = interrupted


def test_ctrl_c_leaves_the_last_checkpoint_whole_and_resumable(host, write_recipe):
    from coopkit.engine.checkpoint import read_checkpoint

    interrupter = InterruptAt(3)
    host.manager.register(interrupter, name="interrupter")
    recipe = write_recipe(train={"iterations": 4})
    with pytest.raises(KeyboardInterrupt):
        coopkit.build(recipe, host=host).fit(progress=False)
    assert interrupter.ended is True
    run_dir = coopkit.build(recipe, host=host).directory
    latest = run_dir.latest_checkpoint()
    assert latest.name == "iter_0000002.safetensors"
    read_checkpoint(latest)  # whole
    assert not list(run_dir.checkpoints.glob(".*"))  # no temporary left behind
    host.manager.unregister(interrupter)
    resumed = coopkit.build(recipe, host=host).fit(progress=False, resume=True)
    assert resumed.iteration == 4
    iterations = [json.loads(m)["iteration"] for m in run_dir.metrics.read_text().splitlines()]
    assert iterations == [1, 2, 3, 4]


def test_f_draft_is_the_descriptors_score_of_the_drafts_before_d2(host, write_recipe):
    run = coopkit.build(write_recipe(train={"descriptor_lr": 1e-12}), host=host)
    observed = run.data.batch(torch.arange(2))
    metrics = run.algorithm.step(observed, torch.arange(2), 0)
    with torch.no_grad():
        direct = float(run.descriptor.score(run.algorithm.stages()["S1"]).mean())
    assert metrics["f_draft"] == pytest.approx(direct, rel=1e-4, abs=1e-6)
    assert metrics["f_draft"] != 0.0


def test_held_out_split_of_a_source_without_splits_is_a_user_error(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host)
    assert run.data_split("train") is run.data
    with pytest.raises(UserError, match="no held-out splits"):
        run.data_split("test")


def test_sample_and_generate_in_batches_match_one_batch(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    torch.testing.assert_close(
        run.generate(5, seed=3, batch_size=2), run.generate(5, seed=3, batch_size=5)
    )
    assert run.sample(5, seed=3, batch_size=2).shape == (5, *run.shape)
    torch.testing.assert_close(
        run.sample(5, seed=3, steps=0, batch_size=2), run.generate(5, seed=3, batch_size=5)
    )


def test_a_reference_centred_on_the_data_uses_the_datas_channel_means(host, write_recipe):
    recipe = write_recipe(descriptor={"reference_mean": "data"})
    run = coopkit.build(recipe, host=host)
    examples = torch.stack([run.data[i] for i in range(len(run.data))])
    expected = examples.double().mean(dim=(0, *range(2, examples.dim()))).tolist()
    assert run.data_info["channel_mean"] == pytest.approx(expected)
    y = torch.zeros(1, *run.shape)
    energy_at_zero = float(run.descriptor.reference_energy(y))
    by_hand = sum(m * m for m in expected) * y[0, 0].numel() / (2 * 1.0**2)
    assert energy_at_zero == pytest.approx(by_hand, rel=1e-5)
    run.fit(progress=False)
    loaded = coopkit.load(run.directory.path, host=host)  # the mean comes back with the run
    assert torch.equal(loaded.descriptor.reference_mean, run.descriptor.reference_mean)
    assert torch.equal(run.sample(3, seed=2), loaded.sample(3, seed=2))
