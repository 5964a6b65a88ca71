"""Evaluating a run: its synthesized examples — and those of baselines fitted to the same data —
against the observed data, with the registered metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError

from coopkit.core.metric import MetricValue
from coopkit.engine.run import Run
from coopkit.errors import UserError

MAX_OBSERVED = 16


@dataclass
class Evaluation:
    """metric values per method (``coopkit (S2 revision)``, ``coopkit (S1 generator)``, baselines)."""

    metrics: list[str]
    rows: dict[str, dict[str, MetricValue]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            method: {
                name: {"mean": v.mean, "stderr": v.stderr, "note": getattr(v, "note", "")}
                for name, v in values.items()
            }
            for method, values in self.rows.items()
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps({"metrics": self.metrics, "results": self.as_dict()}, indent=2))
        return path


def names_list(text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]`` (the CLI's comma-separated options)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def baseline_choice(option: str | None) -> list[str] | None:
    """A ``--baseline`` option: None (every one that applies), ``"none"``, or a comma list."""
    if option is None:
        return None
    return [] if option.strip() == "none" else names_list(option)


def _metrics(
    run: Run, names: list[str], options: dict[str, dict[str, Any]] | None = None
) -> dict[str, object]:
    registry = run.host.registries.metrics
    options = options or {}
    unused = sorted(set(options) - set(names))
    if unused:
        raise UserError(
            f"options given for {', '.join(unused)}, which is not among the metrics asked for "
            f"({', '.join(names) or 'none'})"
        )
    built = {}
    for name in names:
        target = registry.load(name)
        try:
            params = target.Params.model_validate(options.get(name, {}))
        except ValidationError as error:
            problems = "; ".join(
                f"{name}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            fields = ", ".join(target.Params.model_fields) or "none"
            raise UserError(
                f"bad option for metric {name!r}: {problems} (options: {fields})"
            ) from None
        built[name] = target(params)
    return built


def baselines_for(run: Run, names: list[str] | None, task: str) -> dict[str, Any]:
    """The baselines for ``task`` ("synthesis" or "completion"), built: all registered ones that
    apply to the run's data layout when ``names`` is None, else those named (each checked)."""
    registry = run.host.registries.baselines

    def fits(target: Any) -> bool:
        return getattr(target, "task", "synthesis") == task and run.layout in getattr(
            target, "layouts", ()
        )

    suitable = [e.name for e in registry if fits(e.load())]
    if names is None:
        names = suitable
    built = {}
    for name in names:
        target = registry.load(name)
        if not fits(target):
            raise UserError(
                f"baseline {name!r} is not a {task} baseline for {run.layout!r} data; "
                f"choose from: {', '.join(suitable) or 'none registered'} (or 'none')"
            )
        built[name] = target(target.Params())
    return built


def training_examples(run: Run, limit: int | None = None) -> torch.Tensor:
    """The run's training examples (the first ``limit`` of them), as one batch on the CPU: what
    baselines that learn from the data are fitted to (see
    :func:`coopkit.completion.fit_baselines`)."""
    data = run.data
    count = len(data) if limit is None else min(limit, len(data))
    return data.batch(torch.arange(count))


class HeldOutData:
    """The examples metrics compare against, loaded once per split: at most 16 training examples,
    or the whole of a held-out split."""

    def __init__(self, run: Run):
        self.run = run
        self._loaded: dict[str, torch.Tensor] = {}

    def __call__(self, split: str) -> torch.Tensor:
        if split not in self._loaded:
            data = self.run.data_split(split)
            count = min(len(data), MAX_OBSERVED) if split == "train" else len(data)
            self._loaded[split] = data.batch(torch.arange(count))
        return self._loaded[split]


def evaluate(
    run: Run,
    metrics: list[str],
    *,
    baselines: list[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    steps: int | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Each metric for the run's synthesis (S2: draft + revision; S1: generator alone) and for each
    baseline. A metric compares with its ``split`` of the data (16 training examples, or a whole
    held-out split) and is first calibrated on its ``calibration_split`` if it has one.

    ``steps`` overrides the revision's number of MCMC steps; ``options`` maps a metric's name to
    its parameters, e.g. ``{"parzen": {"sigma": 0.2}}``."""
    if not metrics:
        raise UserError(
            "name at least one metric, e.g. --metric psnr,ssim (see `coopkit list metrics`)"
        )
    say = progress or (lambda message: None)
    measures = _metrics(run, metrics, options)
    fitted = baselines_for(run, baselines, "synthesis")
    held_out = HeldOutData(run)
    n = n or max(run.recipe.train.chains, 1)
    methods: dict[str, torch.Tensor] = {}
    if run.descriptor is not None:
        say(f"synthesizing {n} examples (generator draft + descriptor revision)")
        methods["coopkit (S2 revision)"] = run.sample(n, seed=seed, steps=steps).cpu()
    if run.generator is not None:
        say(f"synthesizing {n} examples (generator alone)")
        methods["coopkit (S1 generator)"] = run.generate(n, seed=seed).cpu()
    generator = torch.Generator().manual_seed(seed)
    for name, baseline in fitted.items():
        say(f"fitting baseline {name}")
        baseline.fit(held_out("train"))
        methods[name] = baseline.synthesize(n, generator)
    result = Evaluation(metrics)
    for method, samples in methods.items():
        result.rows[method] = {}
        for name, measure in measures.items():
            say(f"{name} of {method}")
            result.rows[method][name] = _compute(name, measure, samples, held_out, run.value_range)
    return result


def _compute(name, measure, samples, held_out, value_range) -> MetricValue:
    try:
        if measure.calibration_split is not None:
            measure.calibrate(samples, held_out(measure.calibration_split), value_range)
        observed = None if measure.split is None else held_out(measure.split)
        return measure.compute(samples, observed, value_range)
    except ValueError as error:  # a metric that does not apply to this data
        raise UserError(f"metric {name!r} cannot evaluate this run: {error}") from None
