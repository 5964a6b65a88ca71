"""Checkpoints in safetensors, written atomically (a crash never leaves a half-written file).

Tensors: both nets, optimizer states, RNG states and the algorithm's persistent state. Metadata
(strings): the resolved recipe, coopkit and plugin versions, the iteration, the non-tensor parts
of the optimizer states as JSON, and a SHA-256 digest of every tensor, checked on load so that a
checkpoint damaged on disk is never trained from.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from coopkit.engine.atomic import replacing
from coopkit.errors import CheckpointError

if TYPE_CHECKING:
    from coopkit.core import Sampler
    from coopkit.engine.algorithm import Algorithm

FORMAT = "coopkit-checkpoint/1"
NAME = re.compile(r"^iter_(\d+)\.safetensors$")
TEMPORARY = re.compile(r"^\.iter_\d+\.safetensors\.")


def checkpoint_name(iteration: int) -> str:
    return f"iter_{iteration:07d}.safetensors"


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().contiguous().cpu()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Deletes the temporary files a crash during :func:`write_checkpoint` left behind."""
    if not directory.is_dir():
        return []
    stale = [p for p in directory.iterdir() if TEMPORARY.match(p.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def flatten_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """Metadata as safetensors stores it: strings, anything else as JSON, plus the format tag."""
    return {
        "format": FORMAT,
        **{k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()},
    }


def write_checkpoint(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]
) -> None:
    """Writes to a temporary file, syncs it to disk, then renames it into place."""
    ready = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    flat_meta = {**flatten_metadata(metadata), "sha256": tensor_digest(ready)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CheckpointError(f"{path.parent}: cannot write checkpoints there ({error})") from None
    try:
        with replacing(path) as temporary:
            save_file(ready, temporary, metadata=flat_meta)
    except (OSError, SafetensorError) as error:
        raise CheckpointError(
            f"{path}: the checkpoint could not be written ({error}); the earlier checkpoints are "
            "untouched. Free disk space (or pick another output.dir) and continue with --resume."
        ) from None


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a checkpoint, after checking its digest (checkpoints written
    before digests existed load unchecked)."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path}: not a readable safetensors checkpoint ({error}); "
            "pick an earlier checkpoint from the same checkpoints/ folder"
        ) from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a coopkit checkpoint (no '{FORMAT}' format tag)")
    expected = metadata.get("sha256")
    if expected is not None and tensor_digest(tensors) != expected:
        raise CheckpointError(
            f"{path}: damaged — its tensors do not match the SHA-256 digest written with them; "
            "pick an earlier checkpoint from the same checkpoints/ folder"
        )
    return tensors, metadata


def flatten_optimizer(
    prefix: str, state: dict[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Splits ``optimizer.state_dict()`` into tensors (keyed ``prefix.param.key``) and JSON."""
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for param_id, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{param_id}.{key}"] = value
            else:
                plain.setdefault(str(param_id), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "plain": plain}


def unflatten_optimizer(
    prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            param_id, key = name[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(param_id), {})[key] = value
    for param_id, entries in meta["plain"].items():
        state.setdefault(int(param_id), {}).update(entries)
    return {"state": state, "param_groups": meta["param_groups"]}


def _under(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors named ``prefix.*``, without the prefix."""
    start = f"{prefix}."
    return {k.removeprefix(start): v for k, v in tensors.items() if k.startswith(start)}


@dataclass(frozen=True)
class Restored:
    """Where a restored run stands: the iterations done and the divergences rolled back."""

    iteration: int
    rollbacks: int


@dataclass
class TrainingState:
    """Everything of a run that changes as it trains, as a checkpoint holds it, one prefix per
    part: ``descriptor.`` and ``generator.`` (weights), ``optimizer.<net>.`` (Adam's moments; its
    other values as JSON metadata), ``algorithm.`` (persistent chains, latents), ``sampler.`` and
    ``teacher.`` (adapted step sizes), ``rng.`` (the data order, the algorithm's draws and torch's
    global generator, and on CUDA the device's). Restoring it and training on is bit-identical to
    never having stopped — on a GPU where its kernels are deterministic (cuDNN's
    ``deterministic``; some CUDA backward passes, such as replicate padding's and trilinear
    upsampling's, add atomically and are not)."""

    nets: dict[str, torch.nn.Module]  # "descriptor", "generator": those the algorithm has
    optimizers: dict[str, torch.optim.Optimizer]  # by net
    algorithm: Algorithm
    samplers: dict[str, Sampler]  # "sampler" (Step D1), "teacher" (its latent sampler, G1)
    data_rng: torch.Generator
    engine_rng: torch.Generator
    seed: int  # the recipe's; seed + 1 seeded the engine's generator

    def capture(self, iteration: int, rollbacks: int) -> tuple[dict[str, torch.Tensor], dict]:
        """The tensors and metadata of the state after ``iteration`` iterations."""
        tensors: dict[str, torch.Tensor] = {}
        optimizers: dict[str, Any] = {}
        for name, net in self.nets.items():
            tensors.update({f"{name}.{k}": v for k, v in net.state_dict().items()})
            moments, optimizers[name] = flatten_optimizer(
                f"optimizer.{name}", self.optimizers[name].state_dict()
            )
            tensors.update(moments)
        tensors.update({f"algorithm.{k}": v for k, v in self.algorithm.state().items()})
        for name, sampler in self.samplers.items():
            tensors.update({f"{name}.{k}": v for k, v in sampler.state().items()})
        tensors["rng.data"] = self.data_rng.get_state()
        tensors["rng.engine"] = self.engine_rng.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        if self.engine_rng.device.type == "cuda":  # dropout and other draws from the device's own
            tensors["rng.torch_cuda"] = torch.cuda.get_rng_state(self.engine_rng.device)
        metadata = {
            "iteration": iteration,
            "device_type": self.engine_rng.device.type,
            "optimizers": optimizers,
            "torch_version": torch.__version__,
            "rollbacks": rollbacks,
        }
        return tensors, metadata

    def restore(
        self, tensors: dict[str, torch.Tensor], metadata: dict[str, str], source: str | Path
    ) -> Restored:
        """Puts back what :meth:`capture` took (``metadata`` as a checkpoint stores it: strings).
        A checkpoint of other components is a :class:`CheckpointError` naming ``source``."""
        try:
            restored = Restored(int(metadata["iteration"]), int(metadata.get("rollbacks", 0)))
            optimizers = json.loads(metadata["optimizers"])
            for name, net in self.nets.items():
                net.load_state_dict(_under(name, tensors))
                self.optimizers[name].load_state_dict(
                    unflatten_optimizer(f"optimizer.{name}", tensors, optimizers[name])
                )
            self.algorithm.load_state(_under("algorithm", tensors))
            for name, sampler in self.samplers.items():
                sampler.load_state(_under(name, tensors))
            self.data_rng.set_state(tensors["rng.data"])
            if metadata.get("device_type", "cpu") == self.engine_rng.device.type:
                self.engine_rng.set_state(tensors["rng.engine"])
            else:  # a CUDA generator's state means nothing on the CPU and vice versa
                self.engine_rng.manual_seed(self.seed + 1 + restored.iteration)
            torch.set_rng_state(tensors["rng.torch"])
            if "rng.torch_cuda" in tensors and self.engine_rng.device.type == "cuda":
                torch.cuda.set_rng_state(tensors["rng.torch_cuda"], self.engine_rng.device)
        except (KeyError, RuntimeError, ValueError) as error:
            raise CheckpointError(
                f"{source}: does not match this recipe's components ({error}). Was the recipe "
                "changed (net sizes, algorithm) since the checkpoint was written?"
            ) from None
        return restored
