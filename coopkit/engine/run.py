"""Run — one experiment: it builds its components and trains them (Algorithm 3 or a baseline),
writing metrics, samples and checkpoints and rolling back divergences.

What it only hands on lives beside it: synthesis from the nets in :mod:`coopkit.engine.synthesis`,
the data's record and held-out splits in :mod:`coopkit.engine.run_data`, the checkpointed state in
:mod:`coopkit.engine.checkpoint`.
"""

from __future__ import annotations

import errno
import functools
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import tomli_w
import torch

from coopkit._version import __version__ as coopkit_version
from coopkit.core import DataSource, EnergyModel, LatentModel, Sampler, Teacher
from coopkit.devices import resolve_device
from coopkit.engine.algorithm import Algorithm, Parts
from coopkit.engine.algorithm_d import AlgorithmD
from coopkit.engine.algorithm_g import AlgorithmG
from coopkit.engine.allocator import keep_freed_memory
from coopkit.engine.checkpoint import (
    TrainingState,
    checkpoint_name,
    flatten_metadata,
    list_checkpoints,
    read_checkpoint,
    write_checkpoint,
)
from coopkit.engine.contracts import check_built, check_training_start
from coopkit.engine.coopnets import CoopNets
from coopkit.engine.distributed import (
    Distributed,
    PeerFailure,
    Single,
    check_divisible,
    floating_buffers,
    launched_by_torchrun,
    local_device,
    not_launched,
    rank_seed,
    wants_distributed,
)
from coopkit.engine.events import RunEvents, RunHost
from coopkit.engine.health import DivergenceGuard, non_finite_parameters
from coopkit.engine.lock import RunLock
from coopkit.engine.precision import resolve_precision, training_precision
from coopkit.engine.progress import TrainingProgress
from coopkit.engine.report import record_observed, record_stages, write_report
from coopkit.engine.run_data import channel_mean, describe, held_out_split
from coopkit.engine.rundir import RunDirectory
from coopkit.engine.synthesis import SYNTHESIS_BATCH, Synthesis, kernel_as_left
from coopkit.errors import (
    CheckpointError,
    CoopkitWarning,
    RecipeError,
    TrainingDiverged,
    UserError,
)
from coopkit.media.writers import SampleWriter, sample_writer, writer_problem
from coopkit.memory import out_of_memory_hint, synthesis_problems
from coopkit.recipe import ComponentSpec, Recipe, resolved_dict

DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}

T = TypeVar("T")

ALGORITHMS: dict[str, type[Algorithm]] = {
    "coopnets": CoopNets,
    "descriptor": AlgorithmD,
    "generator": AlgorithmG,
}


class Run:
    """Built by :func:`coopkit.build` or :func:`coopkit.load`; train it with :meth:`fit`."""

    def __init__(
        self,
        recipe: Recipe,
        specs: dict[str, ComponentSpec],
        host: RunHost,
        *,
        data_info: dict[str, Any] | None = None,
        run_dir: Path | None = None,
        events: RunEvents | None = None,
    ):
        """``host`` gives the registries and plugin versions (a :class:`coopkit.plugins.PluginHost`
        does); the run's events go to ``events``, by default to the host's plugins."""
        self.recipe = recipe
        self.specs = specs
        self.host = host
        self.events = host if events is None else events
        self.device = local_device(resolve_device(recipe.train.device), recipe.train.strategy)
        self.precision = resolve_precision(recipe.train.precision, self.device)  # fp32 or bf16
        self.strategy: Single = Single()  # a Distributed one while a distributed fit() runs
        self._rank_rng: torch.Generator | None = None  # distributed: this process's own stream
        self.directory = RunDirectory(run_dir or recipe.run_dir)
        self.iteration = 0
        self._data: DataSource | None = None
        if data_info is None:  # a new run: the data source tells the shape
            self._data = self._build("data")
            data_info = describe(self._data)
        self.data_info = data_info
        self.shape = tuple(data_info["shape"])
        self.layout = data_info["layout"]
        self.value_range = tuple(data_info["value_range"])

        torch.manual_seed(recipe.seed)  # weight initialisation
        self.descriptor: EnergyModel | None = self._build("descriptor", shape=self.shape)
        self._center_reference()
        self.generator: LatentModel | None = self._build("generator", shape=self.shape)
        self.sampler: Sampler | None = self._build("sampler")
        self.teacher: Teacher | None = self._build("teacher")
        train = recipe.train
        self.descriptor_optimizer = self._adam(self.descriptor, train.descriptor_lr)
        self.generator_optimizer = self._adam(self.generator, train.generator_lr)
        self.data_rng = torch.Generator().manual_seed(recipe.seed)
        self.rng = torch.Generator(self.device).manual_seed(recipe.seed + 1)
        parts = Parts(
            self.descriptor,
            self.generator,
            self.sampler,
            self.teacher,
            self.descriptor_optimizer,
            self.generator_optimizer,
            train,
            self.shape,
            self.device,
            self.rng,
            self.value_range,
        )
        self.algorithm = ALGORITHMS[train.algorithm](parts, int(data_info["size"]))
        self.guard = DivergenceGuard(self.value_range, train.max_escape)
        self.rollbacks = 0  # divergences rolled back so far; steps shrink by rollback_factor each
        self._recipe_sampler_params = {n: s.params for n, s in self._samplers().items()}
        self._recipe_lrs = {
            name: lr
            for name, lr in (("descriptor", train.descriptor_lr), ("generator", train.generator_lr))
            if getattr(self, name) is not None
        }
        nets = {"descriptor": self.descriptor, "generator": self.generator}
        optimizers = {
            "descriptor": self.descriptor_optimizer,
            "generator": self.generator_optimizer,
        }
        self.state = TrainingState(
            nets={name: net for name, net in nets.items() if net is not None},
            optimizers={name: o for name, o in optimizers.items() if o is not None},
            algorithm=self.algorithm,
            samplers=self._samplers(),
            data_rng=self.data_rng,
            engine_rng=self.rng,
            seed=recipe.seed,
        )
        self._start_state: tuple[dict[str, torch.Tensor], dict[str, str]] | None = None

    # ------------------------------------------------------------------ construction

    def _build(self, section: str, **context: Any) -> Any:
        spec = self.specs.get(section)
        if spec is None:
            return None
        try:
            component = spec.build(**context)
            if isinstance(component, torch.nn.Module):
                component = component.to(self.device)
        except UserError:
            raise
        except ValueError as error:  # a component refusing its settings (e.g. sizes that don't fit)
            raise RecipeError(self.recipe.source, [(section, spec.refusal(error))]) from None
        except Exception as error:
            raise RecipeError(self.recipe.source, [(section, spec.failure(error))]) from error
        check_built(section, component, spec)  # what it declares (contracts.py)
        if section == "data":  # the data's shape is known now: can the chains fit at all?
            problems = synthesis_problems(self.recipe.train, component.shape, self.device)
            if problems:
                raise RecipeError(self.recipe.source, problems)
        return component

    def _center_reference(self) -> None:
        """``descriptor.reference_mean = "data"``: p0 = N(μ, s²I) with μ the observed data's mean
        per channel, measured once and kept in the checkpoints' data record."""
        params = getattr(self.specs.get("descriptor"), "params", None)
        if self.descriptor is None or getattr(params, "reference_mean", "zero") != "data":
            return
        if "channel_mean" not in self.data_info:
            self.data_info["channel_mean"] = channel_mean(self.data)
        self.descriptor.center_reference(torch.tensor(self.data_info["channel_mean"]))

    def _adam(self, model: torch.nn.Module | None, lr: float) -> torch.optim.Optimizer | None:
        """Adam with its fused kernel where the device has one (5× faster than the loop over
        parameters on CPU, same updates); the plain loop elsewhere."""
        if model is None:
            return None
        betas = (self.recipe.train.beta1, 0.999)
        try:
            return torch.optim.Adam(model.parameters(), lr=lr, betas=betas, fused=True)
        except RuntimeError:
            return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)

    @property
    def data(self) -> DataSource:
        if self._data is None:
            self._data = self._build("data")
        return self._data

    def data_split(self, split: str) -> DataSource:
        """The recipe's data source built for another split (e.g. ``"test"``, ``"validation"``):
        held-out examples for metrics such as the Parzen log-likelihood."""
        return self.data if split == "train" else held_out_split(self.specs["data"], split)

    @functools.cached_property
    def writer(self) -> SampleWriter | None:
        """The sample writer registered for the data's layout; ``None``, after a warning that
        says how to get one, when no plugin registers one."""
        return sample_writer(self.layout, self.host.registries["writers"])

    @property
    def resolved_recipe(self) -> dict[str, Any]:
        resolved = resolved_dict(self.recipe, self.specs)
        resolved["output"]["dir"] = str(self.directory.path)
        return resolved

    @property
    def recipe_toml(self) -> str:
        return tomli_w.dumps(self.resolved_recipe)

    # ------------------------------------------------------------------ training

    def fit(
        self,
        *,
        progress: bool = True,
        resume: bool = False,
        resume_from: str | Path | None = None,
        restart: bool = False,
    ) -> Run:
        """Trains until ``train.iterations``, writing metrics, samples and checkpoints.

        ``resume=True`` continues from the run directory's newest checkpoint that reads back
        intact (damaged ones are skipped with a warning), ``resume_from`` from a given checkpoint
        file; ``restart=True`` starts over in a directory that holds a history but no checkpoint.
        The run directory is locked against other processes while training.
        """
        directory = self.directory
        self._distribute()
        main = self.strategy.is_main  # rank 0 alone touches the run directory
        try:
            with ExitStack() as held:
                if main:
                    directory.prepare()
                    held.enter_context(RunLock(directory.path))
                    directory.remove_stale_temporaries()
                if resume_from is not None:
                    self.load_checkpoint(Path(resume_from))
                elif resume:
                    self._resume_newest()
                if main:
                    directory.claim(continuing=self.iteration > 0, restart=restart)
                    directory.truncate_metrics(self.iteration)
                    directory.write_recipe(self.recipe_toml)
                self._train(progress)
        except PeerFailure as failure:
            raise PeerFailure(
                f"{failure}. This process stopped too. {self._last_checkpoint_note()} "
                "Continue with --resume (on any number of processes)."
            ) from None
        finally:
            self._undistribute()
        return self

    # ------------------------------------------------------------------ several processes

    def _distribute(self) -> None:
        """Joins the processes torchrun started when ``train.strategy`` asks for it (see
        :mod:`coopkit.engine.distributed`); a single process changes nothing."""
        train, source = self.recipe.train, self.recipe.source
        if train.strategy == "ddp" and not launched_by_torchrun():
            raise not_launched(train.strategy)
        if not wants_distributed(train.strategy):
            return
        strategy = Distributed(self.device, train.distributed_timeout, self.rng)
        try:
            check_divisible(
                source, strategy.world_size, chains=train.chains, batch_size=train.batch_size
            )
        except BaseException:
            strategy.close()
            raise
        self.strategy = strategy
        self._rank_rng = torch.Generator(self.device)
        self._seed_rank_streams(self.iteration)
        self.algorithm.parts.rng = self._rank_rng
        self.algorithm.parts.shard = strategy
        strategy.attach([self.descriptor_optimizer, self.generator_optimizer])

    def _undistribute(self) -> None:
        self.strategy.close()
        self.strategy = Single()
        self.algorithm.parts.rng = self.rng
        self.algorithm.parts.shard = self.strategy
        self._rank_rng = None

    def _seed_rank_streams(self, iteration: int) -> None:
        """This process's own streams (the algorithm's and torch's global one), started afresh
        for ``iteration``: reproducible, and different on every rank."""
        assert self._rank_rng is not None
        rank = self.strategy.rank
        self._rank_rng.manual_seed(rank_seed(self.recipe.seed, rank, iteration))
        torch.manual_seed(rank_seed(self.recipe.seed + 1, rank, iteration))

    def _on_main(self, task: Callable[[], T]) -> T:
        """``task()`` run by rank 0; its result (or its error) on every process."""
        if not self.strategy.distributed:
            return task()
        result: Any = None
        problem: tuple[bool, str] | None = None  # (a user error?, what rank 0 said)
        if self.strategy.is_main:
            try:
                result = task()
            except Exception as error:
                problem = (isinstance(error, UserError), str(error))
                raise
            finally:
                self.strategy.broadcast_object((result, problem))
            return result
        result, problem = self.strategy.broadcast_object((None, None))
        if problem is not None:
            user_error, message = problem
            raise UserError(message) if user_error else PeerFailure(f"rank 0 failed: {message}")
        return result

    def _share_rank0_state(self) -> None:
        """Distributed: rank 0's batch-norm statistics and adaptive step sizes on every process
        (DistributedDataParallel's broadcast_buffers), so that its checkpoint is everyone's."""
        if not self.strategy.distributed:
            return
        self.strategy.broadcast_tensors(floating_buffers(self.descriptor, self.generator))
        for sampler in self._samplers().values():
            if state := sampler.state():
                sampler.load_state(self.strategy.broadcast_object(state))

    def _resume_newest(self) -> Path | None:
        """Restores the newest checkpoint that reads back intact; returns it (None if none).
        Distributed, rank 0 reads it and every process restores what it read."""
        found = self._on_main(self._read_newest)
        if found is None:
            return None
        path, tensors, metadata = found
        self._restore(tensors, metadata, path)
        return path

    def _read_newest(self) -> tuple[Path, dict[str, torch.Tensor], dict[str, str]] | None:
        for path in reversed(list_checkpoints(self.directory.checkpoints)):
            try:
                tensors, metadata = read_checkpoint(path)
            except CheckpointError as error:
                warnings.warn(f"skipped {error}", CoopkitWarning, stacklevel=4)
                continue
            return path, tensors, metadata
        return None

    def _train(self, progress: bool) -> None:
        keep_freed_memory()
        directory, data, train = self.directory, self.data, self.recipe.train
        indices = torch.arange(min(len(data), 16))
        observed = data.batch(indices)
        check_training_start(self, observed, len(indices))  # what components return (contracts.py)
        self.guard.calibrate(observed)
        main = self.strategy.is_main
        if self.strategy.distributed:  # every process starts from rank 0's weights
            nets = [n for n in (self.descriptor, self.generator) if n is not None]
            self.strategy.broadcast_tensors([t for n in nets for t in n.state_dict().values()])
        if main and self.writer is not None and self.iteration == 0:  # at start: warns if None
            written = self.writer(observed, directory.samples / "observed", self.value_range)
            record_observed(directory, written)
        # what a rollback returns to before checkpoint 1
        if self.strategy.broadcast_object(directory.latest_checkpoint() is None):
            tensors, metadata = self.state_tensors()
            self._start_state = (
                {k: v.clone() for k, v in tensors.items()},
                flatten_metadata(metadata),
            )
        if main:
            self.events.call_event("coopkit_run_start", run=self)
        started, interrupted = time.perf_counter(), True
        title = Path(self.recipe.source).stem
        try:
            with (
                out_of_memory_hint("training", "reduce train.chains or train.batch_size"),
                TrainingProgress(train.iterations, self.iteration, title, progress and main) as bar,
            ):
                while self.iteration < train.iterations:
                    self._advance(data, bar)
            interrupted = False
        except OSError as error:
            if error.errno not in DISK_ERRORS:
                raise
            raise UserError(
                f"{error.filename or directory.path}: cannot write ({error.strerror}). "
                f"{self._last_checkpoint_note()} Free some space (or pick another output.dir) "
                "and continue with --resume."
            ) from None
        finally:
            if main:
                self.events.call_event("coopkit_run_end", run=self, interrupted=interrupted)
                self._write_report(time.perf_counter() - started)

    def _advance(self, data: DataSource, bar: TrainingProgress) -> None:
        """One iteration, then its checks; samples and a checkpoint when they are due."""
        output = self.recipe.output
        metrics = self._iterate(data)
        bar.advance(metrics)
        problem = self.guard.diagnose(metrics)
        if problem is None and (bad := non_finite_parameters(self.descriptor, self.generator)):
            problem = f"non-finite weights ({', '.join(bad[:3])})"
        if self.strategy.any(problem is not None):  # distributed: all roll back, or none
            self._roll_back(problem or "another process's iteration diverged")
            bar.restart_at(self.iteration)
            return
        last = self.iteration == self.recipe.train.iterations
        if self.iteration % output.sample_every == 0 or last:
            self.write_stage_samples()
        if self.iteration % output.checkpoint_every == 0 or last:
            self.save(self.directory.path)
            self._start_state = None
            if self.strategy.is_main:
                self.directory.prune_checkpoints(output.keep_checkpoints)

    def _write_report(self, seconds: float) -> None:
        if not self.directory.path.exists():
            return
        try:
            note = writer_problem(self.layout, self.host.registries["writers"])
            write_report(self.directory, self.recipe_toml, self.recipe.description, seconds, note)
        except OSError as error:  # e.g. the disk filled up; the run's outcome matters more
            warnings.warn(f"report.md was not written: {error}", CoopkitWarning, stacklevel=2)

    def _last_checkpoint_note(self) -> str:
        latest = self.directory.latest_checkpoint()
        return f"The last checkpoint is {latest}." if latest else "No checkpoint was written yet."

    def training_step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        """One step of the algorithm (G0 … G2 for CoopNets) at the run's precision."""
        with training_precision(self.precision, self.device):
            return self.algorithm.step(observed, indices, iteration)

    def _iterate(self, data: DataSource) -> dict[str, Any]:
        started = time.perf_counter()
        batch_size = self.recipe.train.batch_size
        indices = torch.randint(len(data), (batch_size,), generator=self.data_rng)
        indices = indices[self.strategy.part(batch_size)]  # distributed: this process's share
        observed = data.batch(indices).to(self.device)
        metrics = self.training_step(observed, indices, self.iteration)
        if (synthesis := self.algorithm.latest_synthesis()) is not None:
            metrics.update(self.guard.measure(synthesis))
        metrics = self.strategy.reduce_metrics(metrics)  # distributed: means over the processes
        self._share_rank0_state()
        self.iteration += 1
        metrics = {"iteration": self.iteration, **metrics, "seconds": time.perf_counter() - started}
        if self.strategy.is_main:
            self.directory.log(metrics)
            self.events.call_event(
                "coopkit_log_step", run=self, iteration=self.iteration, metrics=metrics
            )
        return metrics

    # ------------------------------------------------------------------ divergence

    def _roll_back(self, problem: str) -> None:
        """Returns to the last good state with smaller steps, or stops (``train.on_divergence``)."""
        train = self.recipe.train
        diverged_at, rollbacks = self.iteration, self.rollbacks + 1
        if train.on_divergence == "stop" or rollbacks > train.max_rollbacks:
            self._stop_diverged(problem)
        if (latest := self._resume_newest()) is not None:
            restored = str(latest.relative_to(self.directory.path))
        elif self._start_state is not None:
            self._restore(*self._start_state, "the start of training")
            restored = "the start of training"
        else:
            self._stop_diverged(problem)
        self._set_rollbacks(rollbacks)
        settings = self._step_settings()
        if not self.strategy.is_main:
            return
        self.directory.truncate_metrics(self.iteration)
        self.directory.log_event(
            self.iteration,
            "rollback",
            diverged_at=diverged_at,
            reason=problem,
            restored=restored,
            rollbacks=rollbacks,
            **settings,
        )
        shown = ", ".join(f"{k} {v:.3g}" for k, v in settings.items())
        warnings.warn(
            f"diverged at iteration {diverged_at} ({problem}); rolled back to "
            f"{latest or restored} "
            f"(iteration {self.iteration}) with {shown} — rollback {rollbacks} of "
            f"{train.max_rollbacks}",
            CoopkitWarning,
            stacklevel=2,
        )

    def _stop_diverged(self, problem: str) -> NoReturn:
        latest = self.directory.latest_checkpoint()
        tried = (
            f" after {self.rollbacks} rollback(s) (train.max_rollbacks = "
            f"{self.recipe.train.max_rollbacks})"
            if self.recipe.train.on_divergence == "rollback"
            else ""
        )
        kept = (
            f"The last good checkpoint is {latest}; continue from it with --resume and a "
            "smaller sampler.step_size or train.descriptor_lr."
            if latest
            else "No checkpoint had been written yet; start again with a smaller "
            "sampler.step_size or train.descriptor_lr."
        )
        raise TrainingDiverged(
            f"training diverged at iteration {self.iteration}{tried}: {problem}. Nothing of the "
            f"diverged state was saved. {kept}"
        )

    def _samplers(self) -> dict[str, Sampler]:
        found = {name: self._stateful_sampler(name) for name in ("sampler", "teacher")}
        return {name: sampler for name, sampler in found.items() if sampler is not None}

    def _set_rollbacks(self, rollbacks: int) -> None:
        """The recipe's step sizes and learning rates times ``rollback_factor ** rollbacks``."""
        factor = self.recipe.train.rollback_factor
        for name, sampler in self._samplers().items():
            sampler.params = self._recipe_sampler_params[name]
            sampler.scale_steps(factor**rollbacks)
            sampler.scale_adapted_steps(factor ** (rollbacks - self.rollbacks))
        for name, lr in self._recipe_lrs.items():
            for group in getattr(self, f"{name}_optimizer").param_groups:
                group["lr"] = lr * factor**rollbacks
        self.rollbacks = rollbacks

    def _step_settings(self) -> dict[str, float]:
        settings = {
            f"{name}_step_size": sampler.params.step_size
            for name, sampler in self._samplers().items()
        }
        for name in self._recipe_lrs:
            settings[f"{name}_lr"] = getattr(self, f"{name}_optimizer").param_groups[0]["lr"]
        return settings

    def write_stage_samples(self) -> list[Path]:
        """Sample grids of the latest stages; distributed, of every process's chains, written
        by rank 0 (every process must call it)."""
        if self.writer is None:
            return []
        stages = {name: self.strategy.gather(b) for name, b in self.algorithm.stages().items()}
        if not self.strategy.is_main:
            return []
        reference = self.data.batch(torch.arange(1))
        written = {
            stage: self.writer(
                batch,
                self.directory.sample_stem(self.iteration, stage),
                self.value_range,
                reference,
            )
            for stage, batch in stages.items()
        }
        record_stages(self.directory, self.iteration, written)
        return [path for paths in written.values() for path in paths]

    # ------------------------------------------------------------------ synthesis

    def _synthesis(self) -> Synthesis:
        """Synthesis with the nets, and the sampler as training left it, as they stand now."""
        kernel = self.sampler
        if kernel is not None:
            kernel = kernel_as_left(kernel, self.iteration, self.recipe.train.iterations)
        return Synthesis(self.descriptor, self.generator, kernel, self.shape, self.device, self.rng)

    def generate(
        self, n: int, *, seed: int | None = None, batch_size: int = SYNTHESIS_BATCH
    ) -> torch.Tensor:
        """n examples from the generator alone: g(X), X ~ N(0, I) (batch-norm in eval mode, so an
        example does not depend on how many are drawn together)."""
        return self._synthesis().generate(n, seed=seed, batch_size=batch_size)

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        steps: int | None = None,
        batch_size: int = SYNTHESIS_BATCH,
    ) -> torch.Tensor:
        """n examples synthesized as the paper does: the generator's draft revised by the
        descriptor's MCMC (S2). Without a generator, chains start from the reference p0; without a
        descriptor, this is :meth:`generate`. ``steps`` overrides the sampler's number of steps;
        examples are drawn ``batch_size`` at a time."""
        return self._synthesis().sample(n, seed=seed, steps=steps, batch_size=batch_size)

    def revise(
        self,
        start: torch.Tensor,
        *,
        steps: int | None = None,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The descriptor's MCMC revision of ``start`` (Step D1), with the kernel as training left
        it: schedules at their last value, adapted step sizes kept and no longer adapting."""
        return self._synthesis().revise(start, steps=steps, rng=rng)

    # ------------------------------------------------------------------ checkpoints

    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """What a checkpoint of the run now holds: the training state's tensors, and metadata
        that also says what the run is (its recipe, versions and data)."""
        tensors, metadata = self.state.capture(self.iteration, self.rollbacks)
        metadata.update(
            recipe=self.recipe_toml,
            recipe_source=self.recipe.source,
            coopkit_version=coopkit_version,
            plugins=self.host.versions(),
            data=self.data_info,
        )
        if self.strategy.distributed:  # every process's own streams (every process must call)
            assert self._rank_rng is not None
            streams = self.strategy.gather_objects(
                (self._rank_rng.get_state(), torch.get_rng_state())
            )
            for rank, (engine, global_) in enumerate(streams):
                tensors[f"rng.rank{rank}.engine"] = engine
                tensors[f"rng.rank{rank}.torch"] = global_
            metadata["world_size"] = self.strategy.world_size
        return tensors, metadata

    def _stateful_sampler(self, name: str) -> Sampler | None:
        """The data-space sampler, or the teacher's latent sampler (adaptive ones carry state)."""
        if name == "sampler":
            return self.sampler
        return getattr(self.teacher, "sampler", None)

    def save(self, path: str | Path) -> Path:
        """Writes a checkpoint: into ``<path>/checkpoints/`` for a run directory, or to ``path``
        itself when it ends in ``.safetensors``. Returns the file written."""
        path = Path(path)
        main = self.strategy.is_main  # distributed: every process calls, rank 0 writes
        if path.suffix != ".safetensors":
            directory = RunDirectory(path)
            if main:
                directory.path.mkdir(parents=True, exist_ok=True)
                if not directory.recipe.exists():
                    directory.write_recipe(self.recipe_toml)
            path = directory.checkpoints / checkpoint_name(self.iteration)
        tensors, metadata = self.state_tensors()
        if main:
            write_checkpoint(path, tensors, metadata)
        return path

    def load_checkpoint(self, path: Path) -> None:
        """Distributed, rank 0 reads the file and every process restores what it read."""
        tensors, metadata = self._on_main(lambda: read_checkpoint(Path(path)))
        self._restore(tensors, metadata, path)

    def _restore(
        self, tensors: dict[str, torch.Tensor], metadata: dict[str, str], source: str | Path
    ) -> None:
        restored = self.state.restore(tensors, metadata, source)
        self.rollbacks = restored.rollbacks
        self._set_rollbacks(restored.rollbacks)
        self.iteration = restored.iteration
        if self.strategy.distributed:
            self._restore_rank_streams(tensors, metadata, restored.iteration)

    def _restore_rank_streams(
        self, tensors: dict[str, torch.Tensor], metadata: dict[str, str], iteration: int
    ) -> None:
        """This process's own streams as the checkpoint saved them when it was written by as
        many processes on the same device type (then training on is bit-identical); started
        afresh for ``iteration`` otherwise (reproducible, but another trajectory)."""
        assert self._rank_rng is not None
        rank, engine = self.strategy.rank, f"rng.rank{self.strategy.rank}.engine"
        same = (
            int(metadata.get("world_size", 1)) == self.strategy.world_size
            and metadata.get("device_type", "cpu") == self._rank_rng.device.type
            and engine in tensors
        )
        if same:
            self._rank_rng.set_state(tensors[engine])
            torch.set_rng_state(tensors[f"rng.rank{rank}.torch"])
        else:
            self._seed_rank_streams(iteration)
