"""Evaluating a run: its synthesized examples — and those of baselines fitted to the same data —
against the observed data, with the registered metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

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
            method: {name: {"mean": v.mean, "stderr": v.stderr} for name, v in values.items()}
            for method, values in self.rows.items()
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps({"metrics": self.metrics, "results": self.as_dict()}, indent=2))
        return path


def _components(run: Run, kind: str, names: list[str]) -> dict[str, object]:
    registry = run.host.registries[kind]
    built = {}
    for name in names:
        target = registry.load(name)
        built[name] = target(target.Params())
    return built


def default_baselines(run: Run) -> list[str]:
    """The registered baselines that apply to this run's data layout."""
    registry = run.host.registries.baselines
    return [e.name for e in registry if run.layout in getattr(e.load(), "layouts", ())]


def evaluate(
    run: Run,
    metrics: list[str],
    *,
    baselines: list[str] | None = None,
    n: int | None = None,
    seed: int = 0,
) -> Evaluation:
    """Each metric for the run's synthesis (S2: draft + revision; S1: generator alone) and for each
    baseline, against up to 16 observed examples."""
    if not metrics:
        raise UserError(
            "name at least one metric, e.g. --metric psnr,ssim (see `coopkit list metrics`)"
        )
    measures = _components(run, "metrics", metrics)
    baseline_names = default_baselines(run) if baselines is None else baselines
    fitted = _components(run, "baselines", baseline_names)
    data = run.data
    observed = data.batch(torch.arange(min(len(data), MAX_OBSERVED)))
    n = n or max(run.recipe.train.chains, 1)
    methods: dict[str, torch.Tensor] = {}
    if run.descriptor is not None:
        methods["coopkit (S2 revision)"] = run.sample(n, seed=seed).cpu()
    if run.generator is not None:
        methods["coopkit (S1 generator)"] = run.generate(n, seed=seed).cpu()
    generator = torch.Generator().manual_seed(seed)
    for name, baseline in fitted.items():
        baseline.fit(observed)
        methods[name] = baseline.synthesize(n, generator)
    result = Evaluation(metrics)
    for method, samples in methods.items():
        result.rows[method] = {
            name: _compute(name, measure, samples, observed, run.value_range)
            for name, measure in measures.items()
        }
    return result


def _compute(name, measure, samples, observed, value_range) -> MetricValue:
    try:
        return measure.compute(samples, observed, value_range)
    except ValueError as error:  # a metric that does not apply to this data
        raise UserError(f"metric {name!r} cannot evaluate this run: {error}") from None
