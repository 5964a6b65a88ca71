"""What the engine checks that components return, before it trains on them.

A component that returns the wrong thing often trains anyway, silently: a descriptor whose
``score()`` gives ``(b, 1)`` broadcasts the energy to ``(b, b)``; one that sums f over the whole
batch multiplies every gradient by the batch size; a generator built for another shape or scale
never reaches the data. So:

- when a run is built (:func:`check_built`, no forward pass): each component is an instance of
  its kind's base class; a data source declares a layout that fits its shape, a value range and
  at least one example; a generator declares a latent shape;
- once per :meth:`Run.fit <coopkit.Run.fit>`, before the first iteration
  (:func:`check_training_start`): a data batch has the declared shape, dtype and range; four
  latents go through the generator and four examples through the descriptor. Nothing runs after
  that: the iterations themselves cost nothing extra. The checks draw no number from the run's
  random streams and leave batch-norm statistics alone, so training is the same with them.

Every failure is a :class:`~coopkit.errors.ComponentContractError` (exit code 2) naming the
component, the plugin it comes from and the fix. The ``*_problem`` functions return that message
(or ``None``); :mod:`coopkit.testing` asserts on the same functions.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from coopkit.core import DataSource, EnergyModel, LatentModel, Sampler, Teacher
from coopkit.engine.health import escape, non_finite_parameters
from coopkit.engine.steps import batch_norm_stats_frozen
from coopkit.errors import ComponentContractError

if TYPE_CHECKING:
    from coopkit.engine.run import Run
    from coopkit.recipe import ComponentSpec

PROBES = 4  # examples (and latents) sent through each net
BATCH_RTOL = 1e-3  # an example's f scored alone vs in a batch, relative to the largest |f|
DATA_RANGE_SLACK = 1e-4  # of the value range's width: rounding when scaling data

BASES: dict[str, type] = {
    "data": DataSource,
    "descriptor": EnergyModel,
    "generator": LatentModel,
    "sampler": Sampler,
    "teacher": Teacher,
}

SCORE_FIX = (
    "EnergyModel.score() sums the net's output over every axis but the batch: drop your override "
    "of score(), or reduce with einops.reduce(out, 'b ... -> b', 'sum')"
)
ENERGY_FIX = (
    "energy() is reference_energy(Y) − score(Y) and each must give one value per example: drop "
    "your override of energy() or reference_energy()"
)
PER_EXAMPLE_FIX = (
    "compute f per example: reduce the net's output over every axis but the batch "
    "(einops.reduce(out, 'b ... -> b', 'sum'), not out.sum()), and use no batch statistics "
    "(batch norm) in a descriptor"
)


def who(spec: ComponentSpec) -> str:
    """``descriptor 'conv-descriptor' from plugin 'image'``"""
    return f"{spec.section} {spec.name!r} from plugin {spec.plugin!r}"


def violation(spec: ComponentSpec, problem: str) -> ComponentContractError:
    return ComponentContractError(f"{who(spec)}: {problem}")


# ------------------------------------------------------------------------------ at build


def check_built(section: str, component: Any, spec: ComponentSpec) -> None:
    """What can be checked without a forward pass, right after ``component`` was built."""
    base = BASES.get(section)
    if base is not None and not isinstance(component, base):
        raise violation(
            spec,
            f"builds a {type(component).__name__}, which is not a coopkit.core.{base.__name__}; "
            f"the target must be a subclass of {base.__name__} (docs/plugins.md, "
            "'The abstractions')",
        )
    problem = None
    if section == "data":
        problem = declaration_problem(component)
    elif section == "generator":
        problem = latent_shape_problem(component)
    if problem is not None:
        raise violation(spec, problem)


def declaration_problem(source: DataSource) -> str | None:
    """A data source's ``shape``, ``layout``, ``value_range`` and size, as declared."""
    shape = source.shape
    if not (
        isinstance(shape, tuple | list)
        and shape
        and all(isinstance(side, int) and side >= 1 for side in shape)
    ):
        return (
            f"declares shape {shape!r}; shape is one example's size without the batch axis, a "
            "tuple of positive ints such as (3, 64, 64)"
        )
    layout = source.layout
    axes = layout.split() if isinstance(layout, str) else []
    if len(axes) != len(shape) + 1 or axes[0] != "b":
        return (
            f"declares layout {layout!r} for examples of shape {tuple(shape)}; the layout names "
            f"the batch axis 'b' and then one axis per dimension of an example "
            f"({len(shape) + 1} names in all, e.g. 'b c h w' for (3, 64, 64))"
        )
    value_range = source.value_range
    try:
        low, high = (float(end) for end in value_range)
    except (TypeError, ValueError):
        low, high = math.nan, math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        return (
            f"declares value_range {value_range!r}; give (low, high) with low < high, the range "
            "its values lie in (the paper scales data to (-1.0, 1.0))"
        )
    if len(source) < 1:
        return "holds no examples; check where its data comes from (path, split, classes)"
    return None


def latent_shape_problem(generator: LatentModel) -> str | None:
    shape = generator.latent_shape
    if not shape or not all(isinstance(side, int) and side >= 1 for side in shape):
        return (
            f"declares latent_shape {shape!r}; give the shape of one latent X without the batch "
            "axis, a tuple of positive ints such as (100,)"
        )
    return None


# ------------------------------------------------------------------------------ first iteration


def check_training_start(run: Run, observed: Any, count: int) -> None:
    """The checks that need a forward pass, once per fit, before the first iteration;
    ``observed`` is what the data source's ``batch()`` gave for ``arange(count)``."""
    device = run.device
    nets = [net for net in (run.descriptor, run.generator) if net is not None]
    dtype = next(nets[0].parameters()).dtype if nets else None
    problem = data_batch_problem(observed, count, run.shape, run.layout, run.value_range)
    problem = problem or dtype_problem(observed, dtype)
    if problem is not None:
        raise violation(run.specs["data"], problem)
    # a net whose weights are not finite (only possible if someone changed them) is the
    # divergence guard's to report, after the iteration, with the last good checkpoint
    generator, descriptor = _finite(run.generator), _finite(run.descriptor)
    with _random_streams_untouched(device), torch.no_grad():
        rng = torch.Generator(device).manual_seed(0)
        if generator is not None:
            problem = generator_problem(
                generator, run.shape, run.value_range, rng, run.recipe.train.max_escape
            )
            if problem is not None:
                raise violation(run.specs["generator"], problem)
        if descriptor is not None:
            examples = probe_examples(observed.to(device), run.value_range, rng)
            problem = descriptor_problem(descriptor, examples)
            if problem is not None:
                raise violation(run.specs["descriptor"], problem)


Net = TypeVar("Net", bound=torch.nn.Module)


def _finite(net: Net | None) -> Net | None:
    """``net``, or None when it has none or its weights are not all finite."""
    return net if net is not None and not non_finite_parameters(net) else None


@contextlib.contextmanager
def _random_streams_untouched(device: torch.device) -> Iterator[None]:
    """Restores torch's global random state (and the device's) afterwards, in case a net draws
    from it (dropout)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        with torch.random.fork_rng(devices=[index], device_type="cuda"):
            yield
    else:
        with torch.random.fork_rng(devices=[]):
            yield


def data_batch_problem(
    batch: Any,
    count: int,
    shape: tuple[int, ...],
    layout: str,
    value_range: tuple[float, float],
    what: str = "batch()",
) -> str | None:
    """A batch of ``count`` examples (from ``what``): the declared layout and shape, finite
    floats within ``value_range``."""
    if not isinstance(batch, torch.Tensor):
        return f"{what} returned a {type(batch).__name__}, not a torch.Tensor"
    expected = (count, *shape)
    if tuple(batch.shape) != expected or batch.dim() != len(layout.split()):
        return (
            f"{what} of {count} examples gave shape {tuple(batch.shape)}, but they are declared "
            f"as {tuple(shape)} in layout {layout!r}, so the batch should be {expected}; stack "
            "the examples along a new first axis (the default DataSource.batch does)"
        )
    if not batch.is_floating_point():
        return f"{what} gave {batch.dtype} values; return floats (e.g. tensor.float())"
    if not bool(torch.isfinite(batch).all()):
        return "its examples hold NaN or infinite values; check the files or their scaling"
    low, high = value_range
    slack = DATA_RANGE_SLACK * (high - low)
    smallest, largest = float(batch.min()), float(batch.max())
    if smallest < low - slack or largest > high + slack:
        return (
            f"its examples hold values in [{smallest:.4g}, {largest:.4g}], outside its declared "
            f"value_range [{low:g}, {high:g}]; scale the data into that range (the paper scales "
            "to [-1, 1]) or declare the range it has"
        )
    return None


def dtype_problem(batch: torch.Tensor, dtype: torch.dtype | None) -> str | None:
    if dtype is None or batch.dtype == dtype:
        return None
    return (
        f"batch() gave {batch.dtype} values, but the nets compute in {dtype}; return "
        f"{dtype} tensors (e.g. tensor.to({dtype}))"
    )


def generator_problem(
    generator: LatentModel,
    shape: tuple[int, ...],
    value_range: tuple[float, float] | None,
    rng: torch.Generator | None = None,
    max_escape: float = 0.5,
    count: int = PROBES,
) -> str | None:
    """``count`` latents through g, in training mode as Step G0 drafts (batch-norm statistics
    kept): the latents have the declared shape; g(X) has the data's shape, is finite, and lies
    within the data's range (when one is given) as far as the divergence guard allows
    (``max_escape`` half-widths on average, see :func:`coopkit.engine.health.escape`)."""
    training = generator.training
    try:
        generator.train()
        with torch.no_grad(), batch_norm_stats_frozen(generator):
            latents = generator.sample_latent(count, rng)
            expected_latents = (count, *generator.latent_shape)
            if tuple(latents.shape) != expected_latents:
                return (
                    f"sample_latent({count}) gave shape {tuple(latents.shape)}, not "
                    f"{expected_latents} (its latent_shape); draw (n, *latent_shape)"
                )
            drafts = generator(latents)
    finally:
        generator.train(training)
    if not isinstance(drafts, torch.Tensor):
        return f"g(X) returned a {type(drafts).__name__}, not a torch.Tensor"
    expected = (count, *shape)
    if tuple(drafts.shape) != expected:
        return (
            f"g(X) of {count} latents has shape {tuple(drafts.shape)}, but the data's examples "
            f"have shape {tuple(shape)}, so it should be {expected}; build the net for the "
            "`shape` its constructor receives"
        )
    if not bool(torch.isfinite(drafts).all()):
        return "g(X) is NaN or infinite at initialisation; check the net's initialisation"
    if value_range is None:
        return None
    escaped = escape(drafts, value_range)
    if escaped > max_escape:
        low, high = value_range
        return (
            f"g(X) lies outside the data's value range [{low:g}, {high:g}] at initialisation "
            f"(values from {float(drafts.min()):.4g} to {float(drafts.max()):.4g}, on average "
            f"{escaped:.3g} half-widths beyond it; train.max_escape is {max_escape:g}); end the "
            "net with an activation that matches the data's range (tanh for [-1, 1]) or scale "
            "the data to the range the net produces"
        )
    return None


def probe_examples(
    observed: torch.Tensor, value_range: tuple[float, float], rng: torch.Generator | None = None
) -> torch.Tensor:
    """``PROBES`` examples to score: half observed ones (repeated when there are fewer), half
    uniform noise over the value range, on ``observed``'s device."""
    half = PROBES // 2
    low, high = value_range
    noise = torch.rand(
        (PROBES - half, *observed.shape[1:]),
        generator=rng,
        device=observed.device,
        dtype=observed.dtype,
    )
    return torch.cat([observed[torch.arange(half) % len(observed)], low + (high - low) * noise])


def per_example_problem(what: str, values: Any, count: int, fix: str) -> str | None:
    """``values`` from ``what`` (e.g. ``"score()"``) on ``count`` examples: a finite tensor of
    shape ``(count,)``."""
    if not isinstance(values, torch.Tensor):
        return f"{what} returned a {type(values).__name__}, not a torch.Tensor; {fix}"
    if tuple(values.shape) != (count,):
        return (
            f"{what} gave shape {tuple(values.shape)} for {count} examples; it must give one "
            f"value per example, shape ({count},) — {fix}"
        )
    if not bool(torch.isfinite(values).all()):
        return (
            f"{what} is NaN or infinite on {count} examples at initialisation; check the net's "
            "initialisation and reference_std"
        )
    return None


def descriptor_problem(
    descriptor: EnergyModel, examples: torch.Tensor, rtol: float = BATCH_RTOL
) -> str | None:
    """``score()`` and ``energy()`` give one finite value per example, and an example's score
    does not depend on the rest of the batch: each example scored alone gets the score it gets
    in the batch, within ``rtol`` of the largest |score| (a descriptor summing f over the whole
    batch is off by a factor of about the batch size)."""
    count = len(examples)
    with torch.no_grad(), batch_norm_stats_frozen(descriptor):
        score = descriptor.score(examples)
        problem = per_example_problem("score()", score, count, SCORE_FIX)
        if problem is None:
            energy = descriptor.energy(examples)
            problem = per_example_problem("energy()", energy, count, ENERGY_FIX)
        if problem is None:
            problem = batch_dependence_problem(descriptor, examples, score, rtol)
    return problem


def batch_dependence_problem(
    descriptor: EnergyModel, examples: torch.Tensor, score: torch.Tensor, rtol: float
) -> str | None:
    """``score`` (of ``examples``) against each example scored on its own."""
    if not _close(descriptor.score(examples), score, rtol):
        return None  # f is random (dropout): scores from different batches cannot be compared
    alone = []
    for example in examples:
        try:
            single = descriptor.score(example[None])
        except Exception as error:
            return (
                f"score() fails on a single example ({type(error).__name__}: {error}) but works "
                f"on {len(examples)}, so an example's f depends on the rest of the batch; "
                f"{PER_EXAMPLE_FIX}"
            )
        if problem := per_example_problem("score()", single, 1, SCORE_FIX):
            return problem
        alone.append(single)
    scores_alone = torch.cat(alone)
    if not _close(scores_alone, score, rtol):
        worst = int((scores_alone - score).abs().argmax())
        return (
            f"an example's score depends on the rest of the batch: example {worst} scores "
            f"{float(scores_alone[worst]):.6g} alone but {float(score[worst]):.6g} in a batch of "
            f"{len(examples)}; {PER_EXAMPLE_FIX}"
        )
    return None


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float) -> bool:
    scale = max(float(a.abs().max()), float(b.abs().max()))
    return float((a - b).abs().max()) <= rtol * scale
