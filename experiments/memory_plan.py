"""Device memory of training per game lane and per minibatch transition, and the largest batch
that fits devices of 16, 80 and 141 GB.

    python experiments/memory_plan.py [--presets small keisei] [--minibatch 4096]

For each preset the compiled ``train_call`` (rollout, GAE, PPO update; the runner donated) is
lowered on the current backend without running it, and XLA's memory analysis gives its peak:
arguments + outputs - donated aliases + temporaries. The peak is affine in the lanes (games,
their stored rollout) and in the minibatch (activations kept for the backward pass), so three
compiles give a fixed part, bytes per lane and bytes per minibatch transition; a fourth, larger
compile checks the prediction. The largest number of lanes for a device of G GB at minibatch M
is (0.9 G - fixed - M x per transition) / per lane, rounded down to a multiple of 256 (10% is
left to the runtime and fragmentation).

Per lane and iteration the runner holds the game state (6,244 B) and the rollout stores, for each
of ``rollout_len`` steps, the observation (float32 9x9x46 = 14,904 B), the packed legal mask and
a few scalars. On CPU the figures are XLA:CPU's; run the script on the accelerator for its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import jax

from keisei_jax.config import TrainConfig, validate
from keisei_jax.models import PRESETS
from keisei_jax.ppo import make_train

DEVICE_GB = (16, 80, 141)  # T4/V100-16G, A100/H100-80G, H200
USABLE = 0.9
GB = 1e9


def plan_config(preset: str, lanes: int, minibatch: int, *, rollout_len: int) -> TrainConfig:
    """The accelerator shape of a run: ``keisei`` in bf16 as in experiments/configs/keisei.py."""
    dtype = "bfloat16" if preset == "keisei" else "float32"
    return validate(TrainConfig(
        num_envs=lanes, rollout_len=rollout_len, num_epochs=1, minibatch_size=minibatch,
        iterations_per_call=1, total_iterations=1, eval_every=0, checkpoint_every=0,
        model=dataclasses.replace(PRESETS[preset], dtype=dtype),
    ))


def peak_bytes(config: TrainConfig) -> int:
    """Peak device bytes of one compiled ``train_call`` for ``config`` (compiled, not run)."""
    trainer = make_train(config)
    abstract = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    compiled = jax.jit(trainer.train_call, donate_argnums=0).lower(abstract).compile()
    m = compiled.memory_analysis()
    return int(m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes
               + m.temp_size_in_bytes)


@dataclasses.dataclass(frozen=True)
class MemoryModel:
    """peak bytes = fixed + per_lane x lanes + per_transition x minibatch (one device)."""

    fixed: float
    per_lane: float
    per_transition: float

    def peak(self, lanes: int, minibatch: int) -> float:
        return self.fixed + self.per_lane * lanes + self.per_transition * minibatch


def fit(preset: str, lanes: int, minibatch: int, *, rollout_len: int) -> MemoryModel:
    """Three compiles: (lanes, mb), (2 lanes, mb), (2 lanes, 2 mb)."""
    a = peak_bytes(plan_config(preset, lanes, minibatch, rollout_len=rollout_len))
    b = peak_bytes(plan_config(preset, 2 * lanes, minibatch, rollout_len=rollout_len))
    c = peak_bytes(plan_config(preset, 2 * lanes, 2 * minibatch, rollout_len=rollout_len))
    per_lane, per_transition = (b - a) / lanes, (c - b) / minibatch
    return MemoryModel(a - per_lane * lanes - per_transition * minibatch, per_lane,
                       per_transition)


@dataclasses.dataclass(frozen=True)
class PresetPlan:
    """The fitted memory model of one preset and the fourth, larger compile that checks it."""

    preset: str
    dtype: str
    model: MemoryModel
    check_lanes: int
    check_minibatch: int
    check_bytes: int  # compiled peak of (check_lanes, check_minibatch)

    @property
    def predicted_check_bytes(self) -> float:
        return self.model.peak(self.check_lanes, self.check_minibatch)


def plan(preset: str, *, lanes: int = 8, fit_minibatch: int = 64,
         rollout_len: int = 32) -> PresetPlan:
    """Four compiles (none run) on the current backend: the fit, then (4 lanes, 2 minibatch)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    model = fit(preset, lanes, fit_minibatch, rollout_len=rollout_len)
    check = plan_config(preset, 4 * lanes, 2 * fit_minibatch, rollout_len=rollout_len)
    return PresetPlan(preset, check.model.dtype, model, check.num_envs, check.minibatch_size,
                      peak_bytes(check))


def largest_lanes(model: MemoryModel, device_gb: float, minibatch: int) -> int:
    free = USABLE * device_gb * GB - model.fixed - model.per_transition * minibatch
    return max(0, int(free // model.per_lane) // 256 * 256)


def largest_minibatch(model: MemoryModel, device_gb: float, lanes: int) -> int:
    free = USABLE * device_gb * GB - model.fixed - model.per_lane * lanes
    return max(0, int(free // model.per_transition) // 256 * 256)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["small", "keisei"])
    parser.add_argument("--lanes", type=int, default=8, help="lanes of the smallest compile")
    parser.add_argument("--fit_minibatch", type=int, default=64,
                        help="minibatch of the smallest compile")
    parser.add_argument("--minibatch", type=int, default=4096,
                        help="minibatch size assumed for the largest-batch columns")
    parser.add_argument("--rollout_len", type=int, default=32)
    args = parser.parse_args(argv)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} ({dev.device_kind}); rollout_len {args.rollout_len}; "
          f"largest batch at minibatch {args.minibatch}", flush=True)
    rows = [
        "| preset | dtype | MB per lane | MB per minibatch transition | fixed MB | check "
        "(32 lanes, mb 128): predicted / compiled MB | "
        + " | ".join(f"max lanes {g} GB" for g in DEVICE_GB) + " | "
        + " | ".join(f"max minibatch at 4,096 lanes {g} GB" for g in DEVICE_GB) + " |",
        "|" + "---|" * (6 + 2 * len(DEVICE_GB)),
    ]
    for preset in args.presets:
        p = plan(preset, lanes=args.lanes, fit_minibatch=args.fit_minibatch,
                 rollout_len=args.rollout_len)
        model = p.model
        fits = " | ".join(
            [f"{largest_lanes(model, g, args.minibatch):,}" for g in DEVICE_GB]
            + [f"{largest_minibatch(model, g, 4096):,}" for g in DEVICE_GB]
        )
        rows.append(
            f"| {preset} | {p.dtype} | "
            f"{model.per_lane / 1e6:.2f} | {model.per_transition / 1e6:.3f} | "
            f"{model.fixed / 1e6:.1f} | {p.predicted_check_bytes / 1e6:.1f} / "
            f"{p.check_bytes / 1e6:.1f} | {fits} |"
        )
        print(rows[-1], flush=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
