"""``train.precision = "bf16"``: the training step under bfloat16 autocast stays within a stated
tolerance of fp32, and differs from it (so the setting is in force)."""

from __future__ import annotations

import pytest
import torch

import coopkit
from coopkit.engine.precision import training_precision
from coopkit.errors import RecipeError

# bfloat16 keeps 8 bits of mantissa: one rounding is ≤ 2⁻⁹ ≈ 0.2 % relative. After one step of
# the tiny recipe (3 Langevin steps through 2 convolutions, Adam at 1e-3) the results agree to:
REVISION_TOLERANCE = 0.02  # max |Δ| of the revised examples (data in [−1, 1])
LOSS_TOLERANCE = 0.1  # relative, the descriptor's and the generator's losses
# Adam's first step moves each parameter by the learning rate (1e-3) times the sign of its
# gradient: where a gradient near 0 changes sign in bf16, the two steps differ by 2e-3.
PARAMETERS_CLOSE = 0.95  # share of the parameters within 1e-4 of fp32's after the step
PARAMETER_TOLERANCE = 2e-3 + 1e-6  # the rest: at most two opposite steps apart


def one_step(host, write_recipe, precision: str):
    recipe = write_recipe(precision, train={"precision": precision})
    run = coopkit.build(recipe, host=host)
    indices = torch.arange(run.recipe.train.batch_size)
    metrics = run.training_step(run.data.batch(indices).to(run.device), indices, 0)
    parameters = torch.cat(
        [p.detach().flatten() for net in (run.descriptor, run.generator) for p in net.parameters()]
    )
    return run.algorithm.latest_synthesis(), metrics, parameters


def test_a_bf16_step_stays_within_tolerance_of_fp32(host, write_recipe):
    revision32, metrics32, parameters32 = one_step(host, write_recipe, "fp32")
    revision16, metrics16, parameters16 = one_step(host, write_recipe, "bf16")

    assert revision16.dtype == torch.float32 and parameters16.dtype == torch.float32
    assert not torch.equal(revision16, revision32)  # autocast was in force
    assert float((revision16 - revision32).abs().max()) <= REVISION_TOLERANCE
    for loss in ("descriptor_loss", "generator_loss"):
        assert metrics16[loss] == pytest.approx(metrics32[loss], rel=LOSS_TOLERANCE), loss
    apart = (parameters16 - parameters32).abs()
    assert float((apart <= 1e-4).float().mean()) >= PARAMETERS_CLOSE
    assert float(apart.max()) <= PARAMETER_TOLERANCE


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
