"""Training on several processes: torch.distributed, launched by torchrun.

``torchrun --nproc-per-node N -m coopkit run RECIPE`` starts N copies of the run; with
``train.strategy = "ddp"`` (or ``"auto"``, the default, under torchrun with N > 1) they train one
model together:

- the observed batch and the chains are split evenly across the processes (``train.batch_size``
  and ``train.chains`` stay the global counts and must divide by N);
- the draft latents (and Algorithm D's noise starts) are drawn for all chains from one stream
  shared by every process, and each keeps its slice, so the chains are the single process's
  chains; every other draw (Langevin noise, …) comes from the process's own stream;
- Algorithm G's per-example latents are gathered from every process after each iteration, so
  that every process keeps the single process's table;
- before every optimizer step the gradients are averaged across the processes (an explicit
  all-reduce in an optimizer step pre-hook, see :meth:`Distributed.average_gradients`). Both
  losses are means over the chains and over the batch, so with equal shards the average of the
  processes' gradients is the gradient of the global batch: the update equals the single
  process's, up to the order of floating-point sums;
- floating buffers (batch-norm running statistics) and adaptive samplers' state are broadcast
  from rank 0 after every iteration, as DistributedDataParallel does, so that every process holds
  the state rank 0 checkpoints.

Rank 0 alone writes the run directory. A process that dies makes the others fail at their next
exchange, a process that hangs after ``train.distributed_timeout`` seconds: both are a
:class:`PeerFailure` (exit 1).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import torch
from torch import nn

from coopkit.errors import RecipeError, UserError

T = TypeVar("T")

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE")


class PeerFailure(Exception):
    """Another process of a distributed run died or stopped answering (exit 1)."""


def launched_by_torchrun() -> bool:
    """Whether this process is one of several a launcher started (torchrun sets these)."""
    return all(name in os.environ for name in LAUNCH_VARIABLES)


def wants_distributed(strategy: str) -> bool:
    """Whether ``train.strategy`` asks for a distributed run in this process."""
    if strategy == "single":
        return False
    launched = launched_by_torchrun()
    if strategy == "ddp":
        return launched
    return launched and int(os.environ["WORLD_SIZE"]) > 1


def local_device(device: torch.device, strategy: str) -> torch.device:
    """Under torchrun, a CUDA device without an index is the process's own: cuda:LOCAL_RANK."""
    if device.type == "cuda" and device.index is None and wants_distributed(strategy):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def rank_seed(seed: int, rank: int, iteration: int) -> int:
    """The seed of rank ``rank``'s own stream when it starts (or restarts without its saved
    state) at ``iteration``: reproducible, and unrelated to the other ranks' and to ``seed``."""
    digest = hashlib.sha256(f"coopkit/{seed}/rank/{rank}/iteration/{iteration}".encode())
    return int.from_bytes(digest.digest()[:8], "little") >> 1


class Single:
    """One process: every operation is the identity, nothing is exchanged."""

    world_size = 1
    rank = 0
    is_main = True
    distributed = False

    def part(self, total: int) -> slice:
        """This process's share of ``total`` items (chains, examples)."""
        return slice(0, total)

    def share(self, total: int) -> int:
        return total

    def draw(
        self, draw: Callable[[int, torch.Generator], torch.Tensor], total: int, rng: torch.Generator
    ) -> torch.Tensor:
        """``draw(total, rng)``; distributed, every process draws all ``total`` from the shared
        stream and keeps its part (see :class:`Distributed`)."""
        return draw(total, rng)

    def reduce_metrics(self, metrics: dict[str, Any]) -> dict[str, Any]:
        return metrics

    def any(self, flag: bool) -> bool:
        return flag

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def gather_objects(self, value: T) -> list[T]:
        return [value]

    def broadcast_object(self, value: T) -> T:
        return value

    def broadcast_tensors(self, tensors: Iterable[torch.Tensor]) -> None:
        del tensors

    def attach(self, optimizers: Iterable[torch.optim.Optimizer | None]) -> None:
        del optimizers

    def close(self) -> None:
        pass


class Distributed(Single):
    """One process of a torch.distributed group (gloo on CPU, nccl on CUDA)."""

    distributed = True

    def __init__(self, device: torch.device, timeout: float, shared_rng: torch.Generator):
        import torch.distributed as dist

        self.dist = dist
        self.device = device
        self.timeout = timeout
        self.shared_rng = shared_rng
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        self._owns_group = not dist.is_initialized()
        if self._owns_group:
            try:
                dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
            except (RuntimeError, ValueError) as error:
                raise PeerFailure(
                    f"the {os.environ.get('WORLD_SIZE', '?')} processes did not all meet within "
                    f"train.distributed_timeout = {timeout:g} s ({error})"
                ) from None
        self.world_size = dist.get_world_size()
        self.rank = dist.get_rank()
        self.is_main = self.rank == 0
        self._hooks: list[Any] = []

    # ------------------------------------------------------------------ splitting

    def part(self, total: int) -> slice:
        share = self.share(total)
        return slice(self.rank * share, (self.rank + 1) * share)

    def share(self, total: int) -> int:
        return total // self.world_size

    def draw(
        self, draw: Callable[[int, torch.Generator], torch.Tensor], total: int, rng: torch.Generator
    ) -> torch.Tensor:
        return draw(total, self.shared_rng)[self.part(total)]

    # ------------------------------------------------------------------ exchanges

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        """Runs one collective; a peer that died or timed out is a :class:`PeerFailure`."""
        try:
            return operation()
        except RuntimeError as error:  # DistBackendError and gloo's errors are RuntimeErrors
            text = str(error).strip()
            first = text.splitlines()[0] if text else type(error).__name__
            raise PeerFailure(
                f"process {self.rank} of {self.world_size}: another process died or did not "
                f"answer within train.distributed_timeout = {self.timeout:g} s ({what}: {first})"
            ) from None

    def average_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Replaces each gradient by its mean over the processes: one all-reduce per dtype."""
        grads = [
            p.grad
            for group in optimizer.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
        for grad in grads:
            by_dtype.setdefault(grad.dtype, []).append(grad)
        for same in by_dtype.values():
            flat = torch.cat([g.reshape(-1) for g in same])
            self._call("gradients", functools.partial(self.dist.all_reduce, flat))
            flat /= self.world_size
            offset = 0
            for grad in same:
                grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
                offset += grad.numel()

    def attach(self, optimizers: Iterable[torch.optim.Optimizer | None]) -> None:
        """Averages the gradients before every step of these optimizers, wherever the step is
        taken (Step D2, Step G2, a plugin's teacher), until :meth:`close`."""
        for optimizer in optimizers:
            if optimizer is not None:
                hook = optimizer.register_step_pre_hook(
                    lambda optimizer, args, kwargs: self.average_gradients(optimizer)
                )
                self._hooks.append(hook)

    def reduce_metrics(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Float metrics averaged over the processes (each is a mean over equal shares, so this
        is the mean over the global batch and chains); a NaN anywhere is a NaN everywhere."""
        names = sorted(k for k, v in metrics.items() if isinstance(v, float))
        values = torch.tensor([metrics[k] for k in names], dtype=torch.float64, device=self.device)
        self._call("metrics", lambda: self.dist.all_reduce(values))
        values /= self.world_size
        return {**metrics, **dict(zip(names, values.tolist(), strict=True))}

    def any(self, flag: bool) -> bool:
        value = torch.tensor([int(flag)], device=self.device)
        self._call("a decision", lambda: self.dist.all_reduce(value, op=self.dist.ReduceOp.MAX))
        return bool(value.item())

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's ``tensor`` (equal shapes), concatenated in rank order."""
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        self._call("samples", lambda: self.dist.all_gather(parts, tensor.contiguous()))
        return torch.cat(parts)

    def gather_objects(self, value: T) -> list[T]:
        found: list[Any] = [None] * self.world_size
        self._call("states", lambda: self.dist.all_gather_object(found, value))
        return found

    def broadcast_object(self, value: T) -> T:
        """Rank 0's ``value`` on every process."""
        box = [value]
        self._call("rank 0's state", lambda: self.dist.broadcast_object_list(box, src=0))
        return box[0]

    def broadcast_tensors(self, tensors: Iterable[torch.Tensor]) -> None:
        """Overwrites ``tensors`` (the same list on every process) with rank 0's values."""
        for tensor in tensors:
            if tensor.is_floating_point() or tensor.dtype in (torch.int64, torch.int32):
                broadcast = functools.partial(self.dist.broadcast, tensor.detach(), src=0)
                self._call("rank 0's state", broadcast)

    def close(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
        if self._owns_group and self.dist.is_initialized():
            self.dist.destroy_process_group()


def floating_buffers(*modules: nn.Module | None) -> list[torch.Tensor]:
    """The floating-point buffers (batch-norm running statistics, …) of ``modules``."""
    return [
        buffer
        for module in modules
        if module is not None
        for buffer in module.buffers()
        if buffer.is_floating_point()
    ]


def check_divisible(source: str, world_size: int, **counts: int) -> None:
    """Each count (train.chains, train.batch_size) must split evenly across the processes."""
    problems = [
        (
            f"train.{name}",
            f"{count} does not split evenly across the {world_size} processes; use a multiple "
            f"of {world_size} (the count is the global one, each process takes "
            f"{name} / {world_size})",
        )
        for name, count in counts.items()
        if count % world_size
    ]
    if problems:
        raise RecipeError(source, problems)


def not_launched(strategy: str) -> UserError:
    return UserError(
        f"train.strategy = {strategy!r} needs the processes torchrun starts: "
        "torchrun --nproc-per-node N -m coopkit run RECIPE (see docs/distributed.md), or "
        "train.strategy = 'single'"
    )
