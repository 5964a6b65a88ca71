"""benchmarks/quality.py: the pass/fail rules of issue 15 on scores made up by hand, and the
suite items it builds recipes from."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality", ROOT / "benchmarks" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def texture_scores(ours_swd, blurred_swd, diversity=1.0, copy_db=20.0):
    return {
        "coopkit (S2 revision)": {
            "swd": ours_swd,
            "chain-diversity": diversity,
            "nearest-copy": copy_db,
        },
        "blurred-source": {"swd": blurred_swd, "nearest-copy": 25.0},
    }


def test_a_texture_passes_only_at_or_below_the_blurred_source_with_distinct_chains(quality):
    item = quality.Item("t", "texture", "check", "regular", {}, 8)
    assert all(quality.checks(item, texture_scores(0.2, 0.3)).values())
    assert not quality.checks(item, texture_scores(0.31, 0.3))["swd ≤ blurred source"]
    assert not quality.checks(item, texture_scores(0.2, 0.3, diversity=0.1))["chains differ"]


def test_a_texture_as_close_to_the_source_as_its_blurred_copy_is_a_copy(quality):
    item = quality.Item("t", "texture", "check", "regular", {}, 8)
    assert quality.checks(item, texture_scores(0.2, 0.3, copy_db=24.9))["no copy"]
    assert not quality.checks(item, texture_scores(0.2, 0.3, copy_db=25.0))["no copy"]


def test_a_run_that_rolled_back_fails_as_diverged(quality, tmp_path):
    item = quality.Item("t", "texture", "check", "regular", {}, 8)
    assert not quality.checks(item, texture_scores(0.2, 0.3), rollbacks=1)["no divergence"]
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(
        '{"iteration": 1}\n{"event": "rollback", "iteration": 2}\n{"iteration": 2}\n'
    )
    assert quality.rollbacks_in(metrics) == 1
    assert quality.rollbacks_in(tmp_path / "missing.jsonl") == 0


def clip_scores(**ours):
    base = {"psnr": 30.0, "ssim": 0.9, "motion": 1.0, "nearest-copy": 30.0, "chain-diversity": 1.0}
    return {
        "coopkit (S2 revision)": {**base, **ours},
        "static-mean-frame": {"psnr": 29.0, "ssim": 0.89},
        "shuffled-frames": {"psnr": 28.0, "ssim": 0.88},
        "lds": {"psnr": 30.0, "ssim": 0.9},
    }


@pytest.mark.parametrize(
    "ours,failed",
    [
        ({}, []),
        ({"psnr": 29.5}, ["psnr ≥ lds"]),
        ({"ssim": 0.885}, ["ssim > static-mean-frame", "ssim ≥ lds"]),
        ({"psnr": 27.0}, ["psnr > static-mean-frame", "psnr > shuffled-frames", "psnr ≥ lds"]),
        ({"motion": 1.5}, ["motion in range"]),
        ({"motion": 0.6}, ["motion in range"]),
        ({"nearest-copy": 41.0}, ["no copy"]),
        ({"chain-diversity": 0.2}, ["chains differ"]),
    ],
)
def test_clip_rules(quality, ours, failed):
    item = quality.Item("c", "clip", "check", "real", {}, 4)
    result = quality.checks(item, clip_scores(**ours))
    assert [name for name, ok in result.items() if not ok] == failed


def test_every_suite_item_becomes_a_data_section(quality):
    items = quality.read_suite("all", [])
    assert {i.modality for i in items} == {"texture", "clip"}
    for item in items:
        if item.modality == "texture":
            assert item.data["name"] == "texture" and item.data["crop"] == 1.0
            assert Path(item.data["image"]).is_relative_to(ROOT / "benchmarks" / "data")
        elif item.kind == "procedural":
            assert item.data["name"] == "procedural-dyntex" and item.data["frames"] >= 32
        else:
            assert item.data["name"] == "video" and item.data["frames"] >= 32
    assert {i.half for i in quality.read_suite("check", [])} == {"check"}


def test_a_diverged_item_fails(quality):
    item = quality.Item("t", "texture", "check", "regular", {}, 8)
    outcome = quality.Outcome(item, "diverged", "iteration 212")
    assert not outcome.passed and quality.verdict(outcome) == "**diverged**"


def test_the_table_is_rebuilt_from_saved_scores_with_the_checks_worked_out_again(quality, tmp_path):
    item = quality.Item("t", "texture", "check", "regular", {}, 8)
    assert quality.saved_outcome(item, tmp_path).status == "not run"
    run = tmp_path / "t"
    run.mkdir()
    saved = {"status": "trained", "detail": "400 iterations", "scores": texture_scores(0.2, 0.3)}
    (run / "quality.json").write_text(json.dumps({**saved, "checks": {}}))
    (run / "metrics.jsonl").write_text('{"event": "rollback"}\n')
    outcome = quality.saved_outcome(item, tmp_path)
    assert outcome.checks["swd ≤ blurred source"] and not outcome.checks["no divergence"]
    assert "fail: no divergence" in quality.table([outcome])
