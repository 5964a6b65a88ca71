"""``train.precision = "bf16"``: the training step under bfloat16 autocast stays within a stated
tolerance of fp32, and differs from it (so the setting is in force)."""

from __future__ import annotations

import pytest
import torch

import coopkit
from coopkit.bench import bench
from coopkit.engine.precision import native_bf16, training_precision
from coopkit.errors import RecipeError
from coopkit.samplers.hmc import HMC
from coopkit.samplers.mala import MALA

# bfloat16 keeps 8 significant bits: one rounding is ≤ 2⁻⁸ ≈ 0.4 % relative. After one step of
# the tiny recipe (3 Langevin steps through 2 convolutions, Adam at 1e-3) the results agree to:
REVISION_TOLERANCE = 0.02  # max |Δ| of the revised examples (data in [−1, 1])
LOSS_TOLERANCE = 0.1  # relative, the descriptor's and the generator's losses,
LOSS_FLOOR = 0.03  # or absolute: bf16's error in a loss is about 0.01 whatever the loss's size
# Adam's first step moves each parameter by the learning rate (1e-3) times the sign of its
# gradient: where a gradient near 0 changes sign in bf16, the two steps differ by 2e-3.
PARAMETERS_CLOSE = 0.95  # share of the parameters within 1e-4 of fp32's after the step
PARAMETER_TOLERANCE = 2e-3 + 1e-6  # the rest: at most two opposite steps apart


def one_step(host, write_recipe, precision: str, **sections):
    train = {"precision": precision, **sections.pop("train", {})}
    recipe = write_recipe(precision, train=train, **sections)
    run = coopkit.build(recipe, host=host)
    indices = torch.arange(run.recipe.train.batch_size)
    metrics = run.training_step(run.data.batch(indices).to(run.device), indices, 0)
    parameters = torch.cat(
        [p.detach().flatten() for net in (run.descriptor, run.generator) for p in net.parameters()]
    )
    return run.algorithm.latest_synthesis(), metrics, parameters


def check_a_bf16_step_stays_within_tolerance_of_fp32(host, write_recipe, device: str) -> None:
    on = {"train": {"device": device}}
    revision32, metrics32, parameters32 = one_step(host, write_recipe, "fp32", **on)
    revision16, metrics16, parameters16 = one_step(host, write_recipe, "bf16", **on)

    assert revision16.dtype == torch.float32 and parameters16.dtype == torch.float32
    assert not torch.equal(revision16, revision32)  # autocast was in force
    assert float((revision16 - revision32).abs().max()) <= REVISION_TOLERANCE
    for loss in ("descriptor_loss", "generator_loss"):
        assert metrics16[loss] == pytest.approx(
            metrics32[loss], rel=LOSS_TOLERANCE, abs=LOSS_FLOOR
        ), loss
    apart = (parameters16 - parameters32).abs()
    assert float((apart <= 1e-4).float().mean()) >= PARAMETERS_CLOSE
    assert float(apart.max()) <= PARAMETER_TOLERANCE


def test_a_bf16_step_stays_within_tolerance_of_fp32(host, write_recipe):
    check_a_bf16_step_stays_within_tolerance_of_fp32(host, write_recipe, "cpu")


def test_a_bf16_step_on_an_accelerator_stays_within_tolerance_of_fp32(
    host, write_recipe, accelerator
):
    check_a_bf16_step_stays_within_tolerance_of_fp32(host, write_recipe, str(accelerator))


def test_a_net_updated_twice_in_one_step_is_run_with_its_new_weights(host, write_recipe):
    """Step G2 with two generator steps runs g again after its first update: in bf16 as in fp32
    (autocast's weight cache would keep the weights from before the update)."""
    settings = {
        "teacher": {"name": "mcmc-teaching", "generator_steps": 2},
        "train": {"generator_lr": 0.05},
    }
    _, metrics32, _ = one_step(host, write_recipe, "fp32", **settings)
    _, metrics16, _ = one_step(host, write_recipe, "bf16", **settings)
    assert metrics16["generator_loss"] == pytest.approx(
        metrics32["generator_loss"], rel=LOSS_TOLERANCE
    )


def test_training_and_bench_step_at_the_recipe_precision(host, write_recipe, monkeypatch):
    import coopkit.engine.run

    asked = []
    monkeypatch.setattr(
        coopkit.engine.run,
        "training_precision",
        lambda precision, device: asked.append(precision) or training_precision(precision, device),
    )
    run = coopkit.build(write_recipe(train={"precision": "bf16", "iterations": 1}), host=host)
    run.fit(progress=False)
    assert asked == ["bf16"]
    monkeypatch.setattr("coopkit.bench.matmul_flops_per_second", lambda device: 1e9)
    bench(run, iterations=1, warmup=0)
    assert asked[1:] and set(asked) == {"bf16"}


def test_metropolis_samplers_decide_in_full_precision():
    """MALA's and HMC's transitions ignore bf16 autocast: the same chain either way."""
    weight = torch.randn(4, 4)

    def energy(x):
        return (x @ weight).square().sum(1) / 2

    for name, sampler in (
        ("mala", MALA(MALA.Params(steps=5, step_size=0.3))),
        ("hmc", HMC(HMC.Params(steps=3, step_size=0.2, leapfrog_steps=3))),
    ):
        x0 = torch.randn(8, 4)
        plain = sampler.run(energy, x0, torch.Generator().manual_seed(0)).x
        with training_precision("bf16", torch.device("cpu")):
            under_autocast = sampler.run(energy, x0, torch.Generator().manual_seed(0)).x
        assert torch.equal(plain, under_autocast), name


def test_fp32_is_no_autocast_and_bf16_is_bfloat16_on_the_device():
    x = torch.randn(2, 3)
    layer = torch.nn.Linear(3, 2)
    with training_precision("fp32", torch.device("cpu")):
        assert layer(x).dtype == torch.float32
    with training_precision("bf16", torch.device("cpu")):
        assert layer(x).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="fp32.*bf16"):
        training_precision("fp16", torch.device("cpu"))


def test_an_unknown_precision_is_a_recipe_error(host, write_recipe):
    with pytest.raises(RecipeError, match="precision"):
        coopkit.build(write_recipe(train={"precision": "fp16"}), host=host)


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "fp32")])
def test_auto_is_bf16_only_where_the_device_computes_it(
    host, write_recipe, monkeypatch, native, expected
):
    import coopkit.engine.precision

    monkeypatch.setattr(coopkit.engine.precision, "native_bf16", lambda device: native)
    run = coopkit.build(write_recipe(train={"precision": "auto"}), host=host)
    assert run.precision == expected
    run.fit(progress=False)
    assert run.recipe.train.precision == "auto"  # the recipe keeps what the user wrote
    for explicit in ("fp32", "bf16"):
        run = coopkit.build(write_recipe(train={"precision": explicit}), host=host)
        assert run.precision == explicit


def test_bf16_is_native_on_cpus_with_its_instructions_only(monkeypatch):
    cpu = torch.device("cpu")
    for avx512_bf16, amx in ((True, False), (False, True), (False, False)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert native_bf16(cpu) == (avx512_bf16 or amx)
    assert not native_bf16(torch.device("meta"))
