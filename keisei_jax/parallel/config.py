"""Settings of the multiprocess CPU path, validated field by field."""

from __future__ import annotations

import dataclasses

from keisei_jax.config import ConfigError, TrainConfig


@dataclasses.dataclass(frozen=True)
class ParallelConfig:
    """How the self-play workers are laid out. Times in seconds.

    One PPO iteration consumes ``num_workers`` segments of ``segment_length`` steps on
    ``lanes_per_worker`` games each (from whichever workers deliver first), so that
    ``num_workers * lanes_per_worker * segment_length`` must equal the sequential path's
    ``num_envs * rollout_len``: the learning-rate schedule and the minibatch split are the same.
    ``0`` for ``lanes_per_worker`` / ``segment_length`` derives them from the ``TrainConfig``.
    """

    enabled: bool = False
    num_workers: int = 2
    lanes_per_worker: int = 0  # 0: num_envs // num_workers
    segment_length: int = 0  # 0: rollout_len
    sync_interval: int = 1  # segments between looks at the newest params
    max_policy_lag: int = 2  # segments produced by params older than this are dropped
    slots_per_worker: int = 2  # shared-memory ring depth: bound on segments in flight per worker
    xla_threads_per_worker: int = 1  # CPU threads of each worker's XLA; workers never oversubscribe
    start_timeout: float = 300.0  # first segment of a worker (import + compile)
    segment_timeout: float = 120.0  # no segment from any worker for this long: fall back
    stop_timeout: float = 10.0  # graceful stop before terminate, then kill
    max_restarts: int = 3  # more worker deaths than this in one run: fall back


def resolve(parallel: ParallelConfig, config: TrainConfig) -> ParallelConfig:
    """``parallel`` with derived sizes filled in; raises ``ConfigError`` naming a bad value."""
    p = parallel
    # field -> (lowest allowed, lowest inclusive)
    bounds = {
        "num_workers": (1, True), "lanes_per_worker": (0, True), "segment_length": (0, True),
        "sync_interval": (1, True), "max_policy_lag": (0, True), "slots_per_worker": (1, True),
        "xla_threads_per_worker": (1, True), "start_timeout": (0, False),
        "segment_timeout": (0, False), "stop_timeout": (0, False), "max_restarts": (0, True),
    }
    for name, (lo, inclusive) in bounds.items():
        value = getattr(p, name)
        if not (value >= lo if inclusive else value > lo):
            raise ConfigError(
                f"bad value {value!r} for 'parallel.{name}': expected "
                f"{'>=' if inclusive else '>'} {lo}"
            )
    lanes = p.lanes_per_worker or config.num_envs // p.num_workers
    length = p.segment_length or config.rollout_len
    if lanes < 1 or p.num_workers * lanes * length != config.steps_per_iteration:
        raise ConfigError(
            f"bad parallel layout: num_workers {p.num_workers} x lanes_per_worker {lanes} x "
            f"segment_length {length} = {p.num_workers * lanes * length} steps per iteration, "
            f"expected num_envs * rollout_len = {config.steps_per_iteration} (the same batch as "
            "the sequential path)"
        )
    return dataclasses.replace(p, lanes_per_worker=lanes, segment_length=length)
