"""One conformance check per kind of component. Each raises ``AssertionError`` saying what is
wrong (pytest shows it as the failure); the data-space checks are the ones the engine makes on the
first iteration (:mod:`coopkit.engine.contracts`), with tighter tolerances."""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from coopkit.core import (
    Baseline,
    CompletionBaseline,
    DataSource,
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
    Metric,
    MetricValue,
    Sampler,
    Teacher,
)
from coopkit.engine.contracts import (
    ENERGY_FIX,
    SCORE_FIX,
    batch_dependence_problem,
    data_batch_problem,
    declaration_problem,
    dtype_problem,
    generator_problem,
    latent_shape_problem,
    per_example_problem,
)
from coopkit.errors import PluginError
from coopkit.registry import Registry

RTOL = 1e-4  # an example's score alone vs in a batch, relative to the largest |score|


def _uniform(
    count: int, shape: tuple[int, ...], value_range: tuple[float, float], seed: int = 0
) -> torch.Tensor:
    low, high = value_range
    noise = torch.rand((count, *shape), generator=torch.Generator().manual_seed(seed))
    return low + (high - low) * noise


def _no_problem(problem: str | None) -> None:
    assert problem is None, problem


# ------------------------------------------------------------------------------ nets


def check_energy_model(
    model: EnergyModel, shape: tuple[int, ...], batch: int = 3, rtol: float = RTOL
) -> None:
    """``score()`` and ``energy()`` give one finite value per example; ``energy()`` is
    differentiable in Y with a finite gradient and equals ``reference_energy − score`` (eq. 4);
    and an example's *score* does not depend on the rest of the batch (each example scored alone
    gets its score in the batch, within ``rtol`` of the largest |score|). Comparing scores, not
    energies, matters: the reference term ||Y||²/(2s²) dwarfs f and would hide a descriptor
    that sums f over the whole batch."""
    assert isinstance(model, EnergyModel), f"{type(model).__name__} is not an EnergyModel"
    y = torch.randn((batch, *shape), generator=torch.Generator().manual_seed(0))
    y.requires_grad_(True)
    score = model.score(y)
    _no_problem(per_example_problem("score()", score, batch, SCORE_FIX))
    energy = model.energy(y)
    _no_problem(per_example_problem("energy()", energy, batch, ENERGY_FIX))
    (grad,) = torch.autograd.grad(energy.sum(), y)
    assert grad.shape == y.shape and bool(torch.isfinite(grad).all()), "∂E/∂Y is not finite"
    expected = model.reference_energy(y) - score
    assert torch.allclose(energy, expected), "energy() ≠ ||Y||²/(2s²) − f(Y) (eq. 4)"
    with torch.no_grad():
        _no_problem(batch_dependence_problem(model, y.detach(), score.detach(), rtol))


def check_latent_model(
    model: LatentModel,
    shape: tuple[int, ...],
    batch: int = 3,
    value_range: tuple[float, float] | None = None,
) -> None:
    """g maps the declared latent shape to the data shape with finite values (within
    ``value_range``, as far as the engine's first-iteration check allows, when it is given);
    ``log_joint`` gives one value per example; eval-mode samples don't depend on how many are
    drawn together (the batch-norm trap)."""
    assert isinstance(model, LatentModel), f"{type(model).__name__} is not a LatentModel"
    _no_problem(latent_shape_problem(model))
    rng = torch.Generator().manual_seed(0)
    _no_problem(generator_problem(model, shape, value_range, rng))
    x = model.sample_latent(batch, rng)
    model.train()
    y = model(x)
    log_joint = model.log_joint(x, y.detach())
    assert log_joint.shape == (batch,), "log_joint() should give one value per example"
    trap = "in eval mode a sample depends on how many are drawn together (batch statistics?)"
    model.eval()
    try:
        with torch.no_grad():
            together = model(x)
            alone = torch.cat([model(x[i : i + 1]) for i in range(batch)])
    except Exception as error:
        raise AssertionError(
            f"{trap}: one alone fails ({type(error).__name__}: {error})"
        ) from error
    finally:
        model.train()
    assert torch.allclose(together, alone, atol=1e-5), trap


# ------------------------------------------------------------------------------ MCMC


def check_sampler(sampler: Sampler, shape: tuple[int, ...] = (2,), chains: int = 4) -> None:
    """On a quadratic energy: keeps the chain shape, stays finite, accumulates no gradient into a
    parameter, reports plain-float stats, and is reproducible — the same seeded ``generator``
    gives the same chains whatever torch's global random state (every random number must come
    from ``generator``). ``at_iteration`` and ``frozen`` give samplers; ``state()`` reloads."""
    assert isinstance(sampler, Sampler), f"{type(sampler).__name__} is not a Sampler"
    weight = nn.Parameter(torch.ones(shape))
    energy = lambda x: 0.5 * (weight * x.square()).flatten(1).sum(1)  # noqa: E731
    x0 = torch.randn((chains, *shape), generator=torch.Generator().manual_seed(0))
    results = []
    with torch.random.fork_rng(devices=[]):
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            kernel = copy.deepcopy(sampler)  # adaptive samplers change as they run
            results.append(kernel.run(energy, x0.clone(), torch.Generator().manual_seed(0)))
    result = results[0]
    assert result.x.shape == x0.shape, "the sampler changed the chain shape"
    assert bool(torch.isfinite(result.x).all()), "the sampler produced non-finite states"
    assert weight.grad is None, "the sampler accumulated a gradient into a parameter"
    assert torch.equal(results[0].x, results[1].x), (
        "the same seeded generator gave different chains: draw every random number from the "
        "`generator` argument (torch.randn(..., generator=generator)), not torch's global state"
    )
    bad = {k: v for k, v in result.stats.items() if not isinstance(v, float)}
    assert not bad, f"stats must be plain floats (for metrics.jsonl); got {bad}"
    assert isinstance(sampler.at_iteration(0, 10), Sampler), "at_iteration() gave no Sampler"
    assert isinstance(sampler.frozen(), Sampler), "frozen() gave no Sampler"
    copy.deepcopy(sampler).load_state(sampler.state())


class TinyGenerator(LatentModel[LatentParams]):
    """A linear generator with a tanh, for checking teachers: X (4,) → Y ``shape``."""

    def __init__(self, shape: tuple[int, ...] = (1, 4, 4), latent: int = 4):
        net = nn.Sequential(
            nn.Linear(latent, math.prod(shape)), nn.Tanh(), nn.Unflatten(1, tuple(shape))
        )
        super().__init__(net, latent_shape=(latent,), noise_std=0.3)


class _TowardTarget(nn.Module):
    """f(Y) = ||Y||²/(2s²) − ||Y − T||²/2 per example."""

    def __init__(self, target: torch.Tensor, reference_std: float):
        super().__init__()
        self.target: torch.Tensor
        self.register_buffer("target", target)
        self.reference_std = reference_std

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        own = y.square().flatten(1).sum(1) / (2 * self.reference_std**2)
        return own - (y - self.target).square().flatten(1).sum(1) / 2


class QuadraticDescriptor(EnergyModel[EnergyParams]):
    """A descriptor with a known answer, for checking what runs Langevin on a descriptor: its
    energy ℰ(Y) = ||Y||²/(2s²) − f(Y) is ||Y − target||²/2, minimal at ``target`` (broadcast over
    the batch), and a noise-free Langevin step of size δ shrinks the gap to it by (1 − δ²/2)."""

    def __init__(self, target: torch.Tensor, reference_std: float = 1.0):
        super().__init__(_TowardTarget(target, reference_std), reference_std=reference_std)


def check_teacher(
    teacher: Teacher,
    generator: LatentModel | None = None,
    shape: tuple[int, ...] | None = None,
) -> None:
    """Step G1 keeps the latent shape, stays finite, reports plain-float stats and puts no
    gradient into the generator's parameters (it returns ``x_start`` itself when
    ``infers_latents`` is false); Step G2 returns a finite loss and moves the generator. With a
    ``generator``, give the ``shape`` of what it makes; without one, a small linear
    :class:`TinyGenerator` (for ``shape``, by default (1, 4, 4)) is used."""
    assert isinstance(teacher, Teacher), f"{type(teacher).__name__} is not a Teacher"
    if generator is None:
        shape = shape or (1, 4, 4)
        generator = TinyGenerator(shape)
    assert shape is not None, "give the shape the generator makes: check_teacher(t, g, shape)"
    rng = torch.Generator().manual_seed(0)
    x = generator.sample_latent(2, rng)
    y = torch.randn((2, *shape), generator=rng)
    generator.zero_grad(set_to_none=True)
    inferred, stats = teacher.infer(generator, x, y, torch.Generator().manual_seed(0))
    assert inferred.shape == x.shape, "Step G1 changed the latent shape"
    assert bool(torch.isfinite(inferred).all()), "Step G1 produced non-finite latents"
    assert all(p.grad is None for p in generator.parameters()), (
        "Step G1 accumulated a gradient into the generator's parameters; differentiate with "
        "respect to the latents only (coopkit.core.energy_and_grad)"
    )
    bad = {k: v for k, v in stats.items() if not isinstance(v, float)}
    assert not bad, f"Step G1's stats must be plain floats; got {bad}"
    if not teacher.infers_latents:
        assert torch.equal(inferred, x), "infers_latents is False but Step G1 moved the latents"
    learner = copy.deepcopy(generator)
    before = [p.detach().clone() for p in learner.parameters()]
    optimizer = torch.optim.SGD(learner.parameters(), lr=1e-2)
    loss = teacher.reconstruct(learner, inferred.detach(), y, optimizer)
    assert isinstance(loss, float) and math.isfinite(loss), f"Step G2 returned {loss!r}"
    moved = any(not torch.equal(a, p) for a, p in zip(before, learner.parameters(), strict=True))
    assert moved, "Step G2 did not change the generator"


# ------------------------------------------------------------------------------ data


def check_data_source(
    source: DataSource, writers: Registry | None = None, *, examples: int = 4
) -> None:
    """What the source declares fits (a layout with one axis more than ``shape``, a value range,
    at least one example); an example and a ``batch()`` have that shape in that layout, finite
    floats within ``value_range``; ``batch()`` equals the examples ``__getitem__`` gives (first,
    second, ..., last) in torch's default dtype, which the run's nets compute in; and a sample
    writer is registered for the layout — in ``writers``, by default the installed plugins'."""
    from coopkit.media.writers import writer_problem

    assert isinstance(source, DataSource), f"{type(source).__name__} is not a DataSource"
    _no_problem(declaration_problem(source))
    low, high = source.value_range
    shape, layout, value_range = tuple(source.shape), source.layout, (low, high)
    size = len(source)
    indices = torch.tensor(sorted({*range(min(size, examples - 1)), size - 1}))
    one_by_one = [source[int(i)] for i in indices]
    for index, example in zip(indices.tolist(), one_by_one, strict=True):
        what = f"source[{index}]"
        assert isinstance(example, torch.Tensor), f"{what} is a {type(example).__name__}"
        assert tuple(example.shape) == shape, (
            f"{what} has shape {tuple(example.shape)}, not the declared {shape}"
        )
        _no_problem(data_batch_problem(example[None], 1, shape, layout, value_range, what))
    batch = source.batch(indices)
    _no_problem(data_batch_problem(batch, len(indices), shape, layout, value_range))
    _no_problem(dtype_problem(batch, torch.get_default_dtype()))
    stacked = torch.stack(one_by_one)
    assert batch.dtype == stacked.dtype and torch.allclose(batch, stacked, atol=1e-6), (
        f"batch({indices.tolist()}) differs from the examples source[i] gives at those indices"
    )
    problem = writer_problem(layout, writers)
    assert not problem, problem


def check_writer(
    writer: Callable[..., object],
    layout: str,
    shape: tuple[int, ...],
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> None:
    """The writer (a registered function, or a :class:`~coopkit.media.writers.SampleWriter`)
    writes a batch of two examples, with a reference, and returns the files it wrote — at least
    one, every one named after the stem, and nothing else in the folder."""
    from coopkit.media.writers import SampleWriter

    if not isinstance(writer, SampleWriter):
        writer = SampleWriter(layout, "(under test)", writer)
    batch = _uniform(2, shape, value_range)
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "check_S2_revision"
        try:
            written = writer(batch, stem, value_range, batch[:1])
        except PluginError as error:
            raise AssertionError(str(error)) from error
        assert written, "the writer wrote no file (it must return the files it wrote)"
        strays = [p.name for p in written if p.parent != stem.parent or stem.name not in p.name]
        assert not strays, f"files not named after the stem {stem.name!r}: {strays}"
        unlisted = sorted({p.name for p in Path(folder).iterdir()} - {p.name for p in written})
        assert not unlisted, f"the writer wrote files it did not return: {unlisted}"


# ------------------------------------------------------------------------------ evaluation


def check_metric(
    metric: Metric, shape: tuple[int, ...], value_range: tuple[float, float] = (-1.0, 1.0)
) -> MetricValue:
    """On uniform noise over ``value_range`` (eight samples; eight observed examples unless the
    metric reads none; calibrated first on eight more if it calibrates): ``compute`` gives a
    :class:`~coopkit.core.MetricValue` with a finite mean. A ``ValueError`` (the metric does not
    apply to data of this shape) is let through."""
    assert isinstance(metric, Metric), f"{type(metric).__name__} is not a Metric"
    samples = _uniform(8, shape, value_range, seed=0)
    if metric.calibration_split is not None:
        metric.calibrate(samples, _uniform(8, shape, value_range, seed=1), value_range)
    observed = None if metric.split is None else _uniform(8, shape, value_range, seed=2)
    value = metric.compute(samples, observed, value_range)
    assert isinstance(value, MetricValue), f"compute() returned {value!r}, not a MetricValue"
    assert math.isfinite(value.mean), f"compute() gave {value} on uniform noise"
    return value


def check_baseline(
    baseline: Baseline | CompletionBaseline,
    shape: tuple[int, ...],
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> None:
    """A synthesis baseline fits four examples and synthesizes three finite ones of their shape;
    a completion baseline (fitted to five examples first, when it has a ``fit(observed)``) fills
    the masked entries of four examples with finite values and keeps the others."""
    observed = _uniform(4, shape, value_range)
    if isinstance(baseline, CompletionBaseline):
        fit = getattr(baseline, "fit", None)
        if callable(fit):  # one that learns from the training data
            fit(_uniform(5, shape, value_range))
        keep = torch.rand((4, 1, *shape[1:]), generator=torch.Generator().manual_seed(1)) > 0.3
        filled = baseline.inpaint(observed, keep.float())
        assert filled.shape == observed.shape, f"inpaint() gave shape {tuple(filled.shape)}"
        assert bool(torch.isfinite(filled).all()), "inpaint() produced non-finite values"
        kept = keep.expand_as(observed)
        assert torch.equal(filled[kept], observed[kept]), "inpaint() changed observed entries"
        return
    assert isinstance(baseline, Baseline), f"{type(baseline).__name__} is not a Baseline"
    baseline.fit(observed)
    synthesized = baseline.synthesize(3, torch.Generator().manual_seed(0))
    assert synthesized.shape == (3, *shape), (
        f"synthesize(3) gave shape {tuple(synthesized.shape)}, not {(3, *shape)}"
    )
    assert bool(torch.isfinite(synthesized).all()), "synthesize() produced non-finite values"
