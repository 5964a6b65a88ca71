"""`coopkit complete` is coopkit's command, and runs the completion a plugin registers for the
run's data layout (hook ``coopkit_register_completions``): it passes only the options given,
turns ``--missing F`` into ``random:F``, writes what the completion returns, and says which
layouts have a completion when the run's has none."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from PIL import Image
from toy_plugin import ToyPlugin
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app_with_plugins
from coopkit.completion import CompletionResult, fit_baselines
from coopkit.core import MetricValue

CALLS: list[dict] = []


def spy_completion(run, masks=("default",), **options) -> CompletionResult:
    """Records what it was called with; returns one panel and a score per mask."""
    CALLS.append({"masks": list(masks), **options})
    examples = run.data.batch(torch.arange(3))
    result = CompletionResult(list(masks), columns={"error": "error", "extra": "my score"})
    result.settings = {"called_with": sorted(options)}
    for spec in masks:
        result.panels[spec] = {"original": examples, "coopkit": -examples}
        value = MetricValue.of(torch.tensor([0.25, 0.75]))
        result.scores[spec] = {"coopkit": {"error": value, "extra": value}}
    return result


class SpyPlugin:
    @coopkit.hookimpl
    def coopkit_register_completions(self, registry):
        registry.add("b c h w", "test_complete_dispatch:spy_completion", summary="records")


@pytest.fixture
def toy_run(coopkit_host, write_recipe):
    coopkit_host(extra={"toy": ToyPlugin()})
    run = coopkit.build(write_recipe("complete"))
    run.fit(progress=False)
    return run.directory.path


def invoke(host, *args) -> SimpleNamespace:
    result = CliRunner().invoke(app_with_plugins(host), [str(arg) for arg in args])
    if not isinstance(result.exception, SystemExit | None):  # a bug: show its traceback
        raise result.exception
    return SimpleNamespace(
        code=result.exit_code, out=result.stdout, err=" ".join(result.stderr.split())
    )


def test_a_layout_without_a_completion_is_a_user_error_naming_those_with_one(toy_run, coopkit_host):
    host = coopkit_host(extra={"toy": ToyPlugin()})
    result = invoke(host, "complete", toy_run)
    assert result.code == 2
    assert "no completion for this run's 'b c h w' data" in result.err
    assert "complete none" in result.err and "coopkit_register_completions" in result.err
    assert not list(toy_run.glob("completion_*"))  # nothing written


def test_the_registered_completion_gets_only_the_options_given(toy_run, coopkit_host):
    host = coopkit_host(extra={"toy": ToyPlugin(), "spy": SpyPlugin()})
    CALLS.clear()
    result = invoke(host, "complete", toy_run, "--missing", "0.3", "--steps", "5", "-n", "3")
    assert result.code == 0, result.err
    (call,) = CALLS
    assert call["masks"] == ["random:0.3"]
    assert call["steps"] == 5 and call["n"] == 3 and call["split"] == "test"
    assert "step_size" not in call and "noise" not in call  # the completion's own defaults
    assert call["baselines"] == {} and call["seed"] == 0 and callable(call["progress"])
    (folder,) = toy_run.glob("completion_*")
    report = json.loads((folder / "completion.json").read_text())
    assert report["called_with"] == sorted(set(call) - {"masks"})
    assert report["results"]["random:0.3"]["coopkit"]["extra"]["mean"] == pytest.approx(0.5)
    assert "my score" in result.out  # the table's columns come from the completion
    width, height = Image.open(folder / "random0.3.png").size  # images: one grid, a row a method
    assert (width, height) == (2 + 3 * (8 + 2), 2 + 2 * (8 + 2))

    CALLS.clear()
    plain = invoke(host, "complete", toy_run, "--mask", "a,b", "--no-noise", "--step-size", "0.2")
    assert plain.code == 0, plain.err
    (call,) = CALLS
    assert call["masks"] == ["a", "b"] and call["noise"] is False and call["step_size"] == 0.2
    assert "steps" not in call
    CALLS.clear()
    assert invoke(host, "complete", toy_run).code == 0
    assert CALLS[0]["masks"] == ["default"]  # no mask given: the completion's own
    assert len(list(toy_run.glob("completion_*"))) == 3  # each in a new folder


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--missing", "0.5", "--mask", "30"], "give one"),
        (["--missing", "1.5"], "0 < F < 1"),
        (["--missing", "0"], "0 < F < 1"),
    ],
)
def test_missing_is_a_fraction_and_not_beside_mask(toy_run, coopkit_host, options, message):
    host = coopkit_host(extra={"toy": ToyPlugin(), "spy": SpyPlugin()})
    CALLS.clear()
    result = invoke(host, "complete", toy_run, *options)
    assert result.code == 2 and message in result.err
    assert CALLS == []


def test_completions_are_listed_with_the_other_components(coopkit_host):
    host = coopkit_host(extra={"spy": SpyPlugin()})
    assert coopkit.list_components("completions", host=host) == ["b c h w"]
    assert host.plugins["spy"].registered == {"completions": ["b c h w"]}


def test_only_baselines_that_learn_from_data_are_fitted_and_the_data_loaded_once():
    class Learns:
        def fit(self, observed):
            self.seen = observed

        def inpaint(self, examples, mask):
            return examples

    class Fixed:
        def inpaint(self, examples, mask):
            return examples

    loads = []

    def training():
        loads.append(1)
        return torch.ones(2, 1)

    fit_baselines({"fixed": Fixed()}, training)
    assert loads == []  # nobody needs the training data: it is not loaded
    first, second = Learns(), Learns()
    fit_baselines({"a": first, "b": second, "fixed": Fixed()}, training)
    assert loads == [1] and first.seen is second.seen
