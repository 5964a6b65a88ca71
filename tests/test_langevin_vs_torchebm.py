"""benchmarks/langevin_vs_torchebm.py: its samplers do coopkit's maths, and its agreement check
would catch one that does not (δ² where coopkit has δ²/2). torchebm itself is optional: its test
is skipped where it is not installed (``nox -s torchebm`` installs it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    path = ROOT / "benchmarks" / "langevin_vs_torchebm.py"
    spec = importlib.util.spec_from_file_location("langevin_vs_torchebm", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["langevin_vs_torchebm"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def case():
    """A small descriptor energy with coopkit's reference term, and its starting batch."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 1),
    )
    s = 0.5

    def energy(y):
        return y.square().flatten(1).sum(1) / (2 * s**2) - net(y).squeeze(1)

    return energy, torch.randn(64, 3, 8, 8), 0.2


def test_the_hand_written_loop_is_coopkits_langevin_bit_for_bit(bench, case):
    energy, x0, delta = case
    for noise in (True, False):
        ours = bench.coopkit_langevin(energy, x0, delta, 5, noise, torch.Generator().manual_seed(3))
        hand = bench.hand_written(energy, x0, delta, 5, noise, torch.Generator().manual_seed(3))
        assert torch.equal(ours, hand)
    lines = bench.check_agreement(bench.samplers(with_torchebm=False), energy, x0, delta, 5)
    assert len(lines) == 4  # the hand loop: two trajectories, two statistics


def test_a_sampler_with_another_step_convention_is_caught(bench, case):
    energy, x0, delta = case

    def eta_is_delta_squared(energy, x0, delta, steps, noise, generator):
        """torchebm's η set to δ² instead of δ²/2: drift δ², noise √2·δ."""
        return bench.hand_written(energy, x0, 2**0.5 * delta, steps, noise, generator)

    found = {"coopkit": bench.coopkit_langevin, "wrong": eta_is_delta_squared}
    with pytest.raises(bench.Disagreement, match="wrong does not follow"):
        bench.check_agreement(found, energy, x0, delta, 5)


def test_torchebm_does_the_same_maths(bench, case):
    pytest.importorskip("torchebm")
    energy, x0, delta = case
    lines = bench.check_agreement(bench.samplers(with_torchebm=True), energy, x0, delta, 5)
    assert any(line.startswith("torchebm vs coopkit, noise off") for line in lines)


def test_the_table_gives_each_samplers_ratio_to_coopkit(bench):
    def r(cpu):
        return {"cpu_s": cpu, "wall_s": cpu, "cpu_s_rounds": [cpu, cpu], "wall_s_rounds": [cpu]}

    text = bench.table({1: {"coopkit": r(1.0), "torchebm": r(1.2)}})
    assert "| 1 | torchebm | 1.200 | 1.200 | 1.200 | 1.200 | 1.20–1.20 |" in text
