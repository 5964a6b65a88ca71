"""Where in time do a dynamic-texture run's chains differ, and where do they agree?

    python benchmarks/chain_profile.py RUN_DIR_OR_CHECKPOINT [...] [--chains 8] [--seed 1]

For each run, from its latest checkpoint (no training): `chain-diversity` of the generator's drafts
(S1) and of their revisions (S2) over ``--chains`` chains, then per frame τ — the diversity of the
revisions' frame τ alone and their RMS distance from the observed frame τ (both in units of the
clip's spread, as `chain-diversity` is) — and how far each latent frame moves each output frame
when it alone is redrawn (the generator in eval mode). Summed up as the first and last quarters of
the clip (its ends) against the middle half.
"""

from __future__ import annotations

import argparse

import torch


def per_frame(values: torch.Tensor) -> str:
    return " ".join(f"{float(v):.2f}" for v in values)


def ends_and_middle(values: torch.Tensor) -> str:
    quarter = max(len(values) // 4, 1)
    ends = torch.cat([values[:quarter], values[-quarter:]]).mean()
    return f"ends {float(ends):.2f}, middle {float(values[quarter:-quarter].mean()):.2f}"


def diversity(samples: torch.Tensor, clip: torch.Tensor) -> float:
    """`chain-diversity` of the samples (all frames, or some), in units of the whole clip's spread."""
    from coopkit.metrics.chain_diversity import ChainDiversity

    return ChainDiversity(ChainDiversity.Params()).compute(samples, clip, (-1.0, 1.0)).mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories or checkpoint files")
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import coopkit
    from coopkit.metrics.chain_diversity import observed_scale

    torch.set_num_threads(1)
    for path in args.runs:
        run = coopkit.load(path)
        observed = run.data[0][None].float().to(run.device)  # 1 × c × t × h × w
        scale = observed_scale(observed)
        drafts = run.generate(args.chains, seed=args.seed)
        revisions = run.sample(args.chains, seed=args.seed)

        frames = observed.shape[2]
        frame_diversity = torch.tensor(
            [diversity(revisions[:, :, [tau]], observed) for tau in range(frames)]
        )
        # every chain's frame τ against the observed frame τ, RMS over chains, channels and pixels
        frame_distance = (revisions - observed).square().mean(dim=(0, 1, 3, 4)).sqrt() / scale
        print(f"## {path} (iteration {run.iteration})")
        print(
            f"chain diversity: drafts {diversity(drafts, observed):.3f}, revisions {diversity(revisions, observed):.3f}"
        )
        print(f"per-frame diversity of the revisions ({ends_and_middle(frame_diversity)}):")
        print(f"  {per_frame(frame_diversity)}")
        print(
            f"per-frame RMS distance from the observed frame ({ends_and_middle(frame_distance)}):"
        )
        print(f"  {per_frame(frame_distance)}")

        generator = run.generator
        rng = torch.Generator(device=run.device).manual_seed(args.seed)
        with torch.no_grad():
            generator.eval()
            latents = generator.sample_latent(args.chains, rng)
            base = generator(latents)
            print("how far each latent frame, redrawn alone, moves each output frame:")
            for j in range(latents.shape[2]):
                redrawn = latents.clone()
                redrawn[:, :, j] = torch.randn(
                    redrawn[:, :, j].shape, generator=rng, device=run.device
                )
                moved = (generator(redrawn) - base).square().mean(dim=(0, 1, 3, 4)).sqrt() / scale
                print(f"  latent frame {j}: {per_frame(moved)}")
        print()


if __name__ == "__main__":
    main()
