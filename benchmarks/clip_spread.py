"""How different can the chains of each clip of the quality suite be? A property of the data:

    python benchmarks/clip_spread.py

For every clip, as the dyntex recipe loads it: the share of its RMS spread (about its mean colour,
the scale of `chain-diversity`) that is in time, and the `chain-diversity` of the `rolled-frames`
baseline — 4 clips played from random frames, wrapping round — over 5 seeds; then the PSNR and
SSIM against the observed clip (frame by frame, as `quality.py` scores them) of those rolled
clips beside the static mean frame's: what a synthesis whose frames are all real but whose course
starts elsewhere scores under the Table 6 protocol. No training.
"""

from __future__ import annotations

import tempfile

import torch
from quality import read_suite


def against(metric, samples: torch.Tensor, clip: torch.Tensor) -> float:
    """The metric's mean over the samples, each scored against the observed clip."""
    return metric.compute(samples, clip, (-1.0, 1.0)).mean


def main() -> None:
    from coopkit_video.baseline import RolledFrames, StaticMeanFrame

    import coopkit
    from coopkit.metrics.chain_diversity import ChainDiversity, observed_scale
    from coopkit.metrics.similarity import PSNR, SSIM
    from coopkit.recipe import parse_recipe, read_toml

    torch.set_num_threads(1)
    print(
        "| clip | half | share of the spread in time | rolled-frames chain diversity (5 seeds) "
        "| PSNR rolled / static | SSIM rolled / static |"
    )
    print("|---|---|---|---|---|---|")
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
        draws = [rolled.synthesize(4, torch.Generator().manual_seed(seed)) for seed in range(5)]
        scores = [diversity.compute(draw, clip, (-1.0, 1.0)).mean for draw in draws]
        static = StaticMeanFrame(StaticMeanFrame.Params())
        static.fit(clip)
        still = static.synthesize(1)
        rolled_clips = torch.cat(draws)
        psnr, ssim = PSNR(PSNR.Params()), SSIM(SSIM.Params())

        print(
            f"| {item.name} | {item.half} | {float(in_time):.2f} | "
            f"{min(scores):.2f}–{max(scores):.2f} | "
            f"{against(psnr, rolled_clips, clip):.2f} / {against(psnr, still, clip):.2f} | "
            f"{against(ssim, rolled_clips, clip):.3f} / {against(ssim, still, clip):.3f} |"
        )


if __name__ == "__main__":
    main()
