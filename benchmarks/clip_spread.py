"""How different can the chains of each clip of the quality suite be? A property of the data:

    python benchmarks/clip_spread.py

For every clip, as the dyntex recipe loads it: the share of its RMS spread (about its mean colour,
the scale of `chain-diversity`) that is in time, and the `chain-diversity` of the `rolled-frames`
baseline — 4 clips played from random frames, wrapping round — over 5 seeds. No training.
"""

from __future__ import annotations

import tempfile

import torch
from quality import read_suite


def main() -> None:
    from coopkit_video.baseline import RolledFrames

    import coopkit
    from coopkit.metrics.chain_diversity import ChainDiversity, observed_scale
    from coopkit.recipe import parse_recipe, read_toml

    torch.set_num_threads(1)
    print("| clip | half | share of the spread in time | rolled-frames chain diversity (5 seeds) |")
    print("|---|---|---|---|")
    diversity = ChainDiversity(ChainDiversity.Params())
    for item in read_suite("all", []):
        if item.modality != "clip":
            continue
        recipe = read_toml(item.recipe)
        recipe["data"] = item.data
        recipe.setdefault("output", {})["dir"] = tempfile.mkdtemp()
        clip = coopkit.build(parse_recipe(recipe, str(item.recipe), [])).data[0][None].float()
        in_time = clip[0].var(dim=1, unbiased=False).mean() / observed_scale(clip) ** 2
        rolled = RolledFrames(RolledFrames.Params())
        rolled.fit(clip)
        scores = [
            diversity.compute(
                rolled.synthesize(4, torch.Generator().manual_seed(seed)), clip, (-1.0, 1.0)
            ).mean
            for seed in range(5)
        ]
        print(
            f"| {item.name} | {item.half} | {float(in_time):.2f} | "
            f"{min(scores):.2f}–{max(scores):.2f} |"
        )


if __name__ == "__main__":
    main()
