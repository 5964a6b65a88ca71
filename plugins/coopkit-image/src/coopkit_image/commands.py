"""``coopkit complete``, added to coopkit's CLI by this plugin (``coopkit_register_commands``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def complete(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    mask: Annotated[
        str,
        typer.Option(
            help="comma-separated masks: square sides on the 64² scale (30,40,50 = M30, M40, "
            "M50; scaled to the image size) or random:FRACTION"
        ),
    ] = "30,40,50",
    n: Annotated[
        int, typer.Option("-n", min=1, help="held-out images to complete (1000 in Table 5)")
    ] = 1000,
    split: Annotated[str, typer.Option(help="data split the images come from")] = "test",
    steps: Annotated[int, typer.Option(min=1, help="Langevin steps inferring X")] = 1000,
    step_size: Annotated[float, typer.Option(min=0, help="δ of the latent Langevin")] = 0.1,
    noise: Annotated[bool, typer.Option(help="Langevin noise (off: gradient descent)")] = True,
    baseline: Annotated[
        str | None,
        typer.Option(help="comma-separated inpainting baselines; default: all; 'none'"),
    ] = None,
    show: Annotated[int, typer.Option(min=1, help="images per row in the pictures")] = 10,
    seed: Annotated[int, typer.Option(help="random seed (masks and latents)")] = 0,
) -> None:
    """Recover occluded held-out images with the generator (experiment 6, Table 5), beside
    inpainting baselines on the same masks; writes pictures and completion.json."""
    import torch

    import coopkit
    from coopkit.evaluation import baseline_choice, baselines_for, names_list
    from coopkit.media import write_grid
    from coopkit.outputs import beside_run, fresh_path
    from coopkit_image.completion import run_completion

    loaded = coopkit.load(run_path)
    masks = names_list(mask)
    baselines = baselines_for(loaded, baseline_choice(baseline), "completion")
    with console.status("completing") as status:
        result = run_completion(
            loaded,
            masks,
            n=n,
            split=split,
            steps=steps,
            step_size=step_size,
            noise=noise,
            baselines=baselines,
            seed=seed,
            progress=status.update,
        )
    folder = fresh_path(beside_run(run_path, loaded), f"completion_iter{loaded.iteration:07d}")
    folder.mkdir(parents=True)
    for spec, panel in result.panels.items():
        rows = [images[:show].cpu() for images in panel.values()]
        name = f"M{spec}" if spec.isdigit() else spec.replace(":", "")
        written = write_grid(
            torch.cat(rows),
            folder / f"{name}.png",
            loaded.layout,
            loaded.value_range,
            columns=len(rows[0]),
        )
        console.print(f"wrote {written[0]}  (rows: {', '.join(panel)})")
    table = Table("mask", "method", "error (occluded, ÷ range)", "PSNR (occluded, dB)")
    for spec, methods in result.scores.items():
        for method, values in methods.items():
            table.add_row(spec, method, str(values["error"]), str(values["psnr"]))
    console.print(table)
    report = {"n": n, "split": split, "steps": steps, "step_size": step_size, "noise": noise}
    report["results"] = result.as_dict()
    (folder / "completion.json").write_text(json.dumps(report, indent=2))
    console.print(f"wrote {folder / 'completion.json'}")
