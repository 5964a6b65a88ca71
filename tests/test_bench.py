"""``coopkit bench``: FLOPs counted by hand-checkable formulas, phases of the real step, JSON."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import coopkit
import coopkit.api
from coopkit.bench import _FlopCounter, bench, matmul_flops_per_second
from coopkit.cli import main


@pytest.fixture
def small_matmul(monkeypatch):
    """The bench's reference rate from 256² products instead of 2048² (seconds on one core; what
    the rate itself is worth is test_matmul_rate_is_a_rate's business)."""
    monkeypatch.setattr(
        "coopkit.bench.matmul_flops_per_second",
        lambda device: matmul_flops_per_second(device, size=256, repeats=2),
    )


def test_the_counter_counts_matrix_products_and_convolutions_forward_and_backward():
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    with _FlopCounter() as counter:
        torch.mm(a, b)
    assert counter.flops == 2 * 3 * 4 * 5

    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    weight = torch.randn(6, 3, 3, 3, requires_grad=True)
    with _FlopCounter() as counter:
        torch.nn.functional.conv2d(x, weight).sum().backward()
    forward = 2 * (2 * 6 * 6 * 6) * (3 * 3 * 3)  # outputs × taps, a multiply and an add each
    assert counter.flops == 3 * forward  # backward: the input's and the weight's gradients


def test_bench_times_each_phase_of_the_real_step_and_writes_nothing(
    host, write_recipe, small_matmul
):
    run = coopkit.build(write_recipe(), host=host)
    result = bench(run, iterations=2, warmup=1)
    assert set(result.phases) == {"G0", "D1", "G1", "D2", "G2"}
    assert result.phases["D1"].flops_per_iteration > result.phases["G0"].flops_per_iteration > 0
    assert result.flops_per_iteration == sum(p.flops_per_iteration for p in result.phases.values())
    assert sum(p.seconds_per_iteration for p in result.phases.values()) <= (
        result.seconds_per_iteration * 1.01
    )
    assert 0 < result.efficiency and result.peak_memory_bytes > 2**20
    assert not run.directory.path.exists()


def test_bench_on_an_accelerator_waits_for_its_work_and_reads_its_memory(
    host, write_recipe, accelerator, small_matmul
):
    run = coopkit.build(write_recipe(train={"device": str(accelerator)}), host=host)
    result = bench(run, iterations=2, warmup=1)
    assert result.environment["device"] == str(accelerator)
    assert result.seconds_per_iteration > 0 and result.flops_per_iteration > 0
    if accelerator.type == "cuda":  # the GPU's own peak, not the process's resident memory
        assert 0 < result.peak_memory_bytes <= torch.cuda.get_device_properties(0).total_memory
        assert result.environment["tf32_convolutions"] is False  # the fixture turned TF32 off
    assert 1e8 < matmul_flops_per_second(accelerator, size=256, repeats=2) < 1e16


def test_matmul_rate_is_a_rate():
    assert 1e8 < matmul_flops_per_second(torch.device("cpu"), size=256, repeats=2) < 1e14


def test_the_cli_prints_one_json_object(host, write_recipe, monkeypatch, capsys, small_matmul):
    monkeypatch.setattr(coopkit.api, "default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    monkeypatch.setattr("coopkit.cli.register_plugin_commands", lambda *a: None)
    argv = ["coopkit", "bench", str(write_recipe()), "--iterations", "1", "--json"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("efficiency", "seconds_per_iteration", "flops_per_iteration"):
        assert report[key] > 0
    assert {"matmul_flops_per_second", "peak_memory_bytes", "phases", "threads"} <= set(report)


@pytest.mark.parametrize(
    ("precision", "native", "hinted"),
    [
        ("fp32", True, True),
        ("fp32", False, False),
        ("bf16", True, False),
    ],
)
def test_the_table_suggests_bf16_only_where_it_is_native_and_off(
    host, write_recipe, monkeypatch, capsys, small_matmul, precision, native, hinted
):
    monkeypatch.setattr(coopkit.api, "default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    monkeypatch.setattr("coopkit.cli.register_plugin_commands", lambda *a: None)
    monkeypatch.setattr("coopkit.engine.precision.native_bf16", lambda device: native)
    recipe = write_recipe(train={"precision": precision})
    monkeypatch.setattr(sys, "argv", ["coopkit", "bench", str(recipe), "--iterations", "1"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    output = capsys.readouterr().out
    assert f"in {precision}" in output
    assert ("train.precision=auto" in output) == hinted
