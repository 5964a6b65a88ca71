"""Checkpoints in safetensors, written atomically (a crash never leaves a half-written file).

Tensors: both nets, optimizer states, RNG states and the algorithm's persistent state. Metadata
(strings): the resolved recipe, coopkit and plugin versions, the iteration, and the non-tensor parts
of the optimizer states as JSON.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from coopkit.errors import CheckpointError

FORMAT = "coopkit-checkpoint/1"
NAME = re.compile(r"^iter_(\d+)\.safetensors$")


def checkpoint_name(iteration: int) -> str:
    return f"iter_{iteration:07d}.safetensors"


def list_checkpoints(directory: Path) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def write_checkpoint(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flat_meta = {
        "format": FORMAT,
        **{k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()},
    }
    ready = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        save_file(ready, temporary, metadata=flat_meta)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
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
