"""The training configuration's schema: ``TrainConfig`` (with ``ParallelConfig`` and the
network's ``ModelConfig``), one frozen dataclass whose fields each declare their range or
choices, whether they may change on resume and a one-line doc (``config_field.field``); the
dotted-name index of those fields (``FIELDS``), the knowledge aids, and the quantities derived
from a config."""

from __future__ import annotations

import dataclasses
from typing import Any

from keisei_jax.config_field import SEED_RANGE, field
from keisei_jax.default_player import CONSIDERED_ACTIONS, MATE_CANDIDATES
from keisei_jax.models import PRESETS, ModelConfig


class ConfigError(ValueError):
    """An unknown config key or a value outside what the field accepts."""


# A wait above a day is a typo (and past threading.TIMEOUT_MAX, an OverflowError mid-run).
MAX_WAIT_S = 86_400.0


# Every field may change on resume: the layout must give the learner the sequential path's batch
# (num_workers * lanes_per_worker * segment_length = num_envs * rollout_len, checked), so the
# update, its minibatch split and the learning-rate schedule stay the same; the ``Runner`` holds
# no worker state (workers start new games from the current params); sync interval and policy
# lag only bound how stale the behaviour data is (the update uses its stored log-probs); the rest
# are timeouts, buffer depths and thread counts.
@dataclasses.dataclass(frozen=True)
class ParallelConfig:
    """How the CPU-parallel self-play workers (``keisei_jax.parallel``) are laid out. Seconds.

    One PPO iteration consumes ``num_workers`` segments of ``segment_length`` steps on
    ``lanes_per_worker`` games each (from whichever workers deliver first), so that
    ``num_workers * lanes_per_worker * segment_length`` must equal the sequential path's
    ``num_envs * rollout_len``: the learning-rate schedule and the minibatch split are the same.
    ``0`` for ``lanes_per_worker`` / ``segment_length`` derives them from the ``TrainConfig``.
    """

    enabled: bool = field(False, resumable=True,
                          doc="self-play in worker processes feeding the same update")
    num_workers: int = field(2, lo=1, resumable=True, doc="self-play worker processes")
    lanes_per_worker: int = field(0, lo=0, resumable=True, doc="games per worker; 0: num_envs // "
                                  "num_workers")
    segment_length: int = field(0, lo=0, resumable=True, doc="steps per segment; 0: rollout_len")
    sync_interval: int = field(1, lo=1, resumable=True,
                               doc="segments between a worker's looks at the newest params")
    max_policy_lag: int = field(2, lo=0, resumable=True,
                                doc="segments from params older than this are dropped")
    slots_per_worker: int = field(2, lo=1, resumable=True,
                                  doc="shared-memory ring depth: segments in flight per worker")
    xla_threads_per_worker: int = field(1, lo=1, resumable=True,
                                        doc="CPU threads of each worker's XLA")
    start_timeout: float = field(300.0, lo=0.0, lo_open=True, hi=MAX_WAIT_S, resumable=True,
                                 doc="seconds for a worker's first segment (import + compile)")
    segment_timeout: float = field(120.0, lo=0.0, lo_open=True, hi=MAX_WAIT_S, resumable=True,
                                   doc="seconds without a segment from any worker: fall back")
    stop_timeout: float = field(10.0, lo=0.0, lo_open=True, hi=MAX_WAIT_S, resumable=True,
                                doc="seconds of graceful stop before terminate, then kill")
    max_restarts: int = field(3, lo=0, resumable=True,
                              doc="more worker deaths than this in one run: fall back")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; the defaults are the CPU default config.
    Units: iterations unless a name says otherwise.

    One iteration = ``rollout_len`` batched env steps on ``num_envs`` self-play lanes, then
    ``num_epochs`` passes of shuffled minibatches of ``minibatch_size`` transitions.
    """

    seed: int = field(0, lo=SEED_RANGE[0], hi=SEED_RANGE[1],
                      doc="seed of the parameters, the games and the minibatch order")
    algo: str = field("ppo", choices=("ppo", "gumbel_az"),
                      doc="ppo: clipped PPO on raw self-play; gumbel_az: Gumbel AlphaZero, every "
                          "self-play move searched, the search's policy and returns the targets")
    # Configs saved before the model was nested held ModelConfig's defaults in flat keys.
    model: ModelConfig = field(PRESETS["small"], absent=ModelConfig(),
                               doc="the network's shape and compute dtype")
    parallel: ParallelConfig = field(ParallelConfig(), doc="CPU-parallel self-play")
    # Self-play.
    num_envs: int = field(64, lo=1, doc="self-play games played side by side")
    rollout_len: int = field(32, lo=1, doc="env steps per iteration on each lane")
    max_plies: int = field(512, lo=1, doc="ply cap of a training game (cut, bootstrapped)")
    # PPO.
    num_epochs: int = field(2, lo=1, doc="passes over an iteration's data")
    minibatch_size: int = field(64, lo=1, doc="transitions per gradient step")
    lr: float = field(1e-3, lo=0.0, lo_open=True, doc="Adam's peak learning rate")
    lr_schedule: str = field("linear", choices=("constant", "linear", "cosine"),
                             doc="decay of the learning rate over lr_decay_iterations")
    lr_decay_iterations: int = field(
        0, lo=0, resumable=True,
        doc="iterations over which the rate decays to lr * lr_final_frac and then stays; 0: the "
            "total_iterations of the run as first started (a resume that extends the run keeps "
            "it: the extension trains at the final rate)")
    lr_final_frac: float = field(0.0, lo=0.0, hi=1.0, resumable=True,
                                 doc="the rate at the end of the decay, as a fraction of lr")
    adam_eps: float = field(1e-5, lo=0.0, lo_open=True, doc="Adam's epsilon")
    gamma: float = field(0.99, lo=0.0, hi=1.0, doc="discount per ply")
    gae_lambda: float = field(0.8, lo=0.0, hi=1.0, doc="GAE's lambda")
    clip_eps: float = field(0.2, lo=0.0, lo_open=True, doc="PPO ratio clip")
    value_clip_eps: float = field(0.0, lo=0.0, doc="value clip around the rollout's; 0: none")
    value_coef: float = field(0.5, lo=0.0, doc="weight of the value loss")
    entropy_coef: float = field(0.005, lo=0.0, doc="weight of the entropy bonus")
    max_grad_norm: float = field(0.5, lo=0.0, lo_open=True, doc="global gradient-norm clip")
    target_kl: float = field(0.0, lo=0.0, doc="stop an iteration's epochs past this KL; 0: never")
    # Search (gumbel_az self-play).
    search_simulations: int = field(16, lo=1, doc="simulations per self-play move (gumbel_az)")
    search_considered_actions: int = field(
        CONSIDERED_ACTIONS, lo=1, doc="root actions Sequential Halving considers (gumbel_az)")
    search_gumbel_scale: float = field(
        1.0, lo=0.0, doc="Gumbel noise of the root's choice: 1 samples, 0 deterministic")
    search_mate_candidates: int = field(
        MATE_CANDIDATES, lo=0,
        doc="checks tried for a mate in one at every search node (gumbel_az); 0: none")
    search_full_fraction: float = field(
        1.0, lo=0.0, hi=1.0, lo_open=True,
        doc="playout-cap randomisation (gumbel_az): fraction of plies fully searched and learned "
            "as policy targets; the rest get search_cheap_simulations and teach the value only")
    search_cheap_simulations: int = field(
        4, lo=1, doc="simulations of a cheap self-play search (search_full_fraction < 1)")
    selfplay_sampled_plies: int = field(
        0, lo=0,
        doc="plies at the start of each self-play game whose move is drawn from the search's "
            "improved policy instead of its choice (gumbel_az); 0: none")
    # Value targets and the replay buffer (gumbel_az).
    value_target: str = field(
        "lambda_return", choices=("lambda_return", "result"),
        doc="lambda_return: the lambda-return over search values and rewards of each segment; "
            "result: the game's result, blended with the search value by value_search_blend "
            "(needs replay_size > 0: a position waits in the buffer for its game to end)")
    value_search_blend: float = field(
        0.0, lo=0.0, hi=1.0, doc="weight of the search value in a result target; 0: z alone")
    value_blend_with: str = field(
        "search_value", choices=("search_value", "lambda_return"),
        doc="what a result target blends z with (value_search_blend's weight): the search's "
            "value of the position, or the lambda-return over the search values and rewards of "
            "its segment (a dense target that carries potential-based material shaping)")
    replay_size: int = field(
        0, lo=0, doc="positions kept in the replay buffer (a multiple of num_envs * "
                     "rollout_len); 0: none, each iteration learns from its own data")
    replay_reuse: float = field(
        4.0, lo=0.0, lo_open=True, hi=64.0,
        doc="positions sampled per iteration / positions added: how often a position is learned "
            "on average during its stay in the buffer")
    replay_warmup: int = field(
        0, lo=0, doc="positions the buffer holds before the first update")
    material_head_coef: float = field(
        0.0, lo=0.0, doc="weight of the material head's loss (model.material_head: the game's "
        "final material as an auxiliary target, KataGo's score target for shogi; needs "
        "value_target 'result'); 0: none")
    # Reward shaping (training only), annealed to 0 over shaping_anneal_frac of the run.
    material_shaping: float = field(0.02, lo=0.0, doc="reward per pawn of material gained")
    check_bonus_pawns: float = field(
        2.0, lo=0.0, absent=0.0,
        doc="pawns of material credited to a checking move; scaled by material_shaping like the "
            "material gain")
    shaping_anneal_frac: float = field(0.7, lo=0.0, hi=1.0,
                                       doc="fraction of the run over which shaping decays to 0")
    # Curriculum (training only).
    random_opponent_lanes: float = field(0.0, lo=0.0, hi=1.0,
                                         doc="fraction of the lanes facing a uniform-random player")
    # Schedule of the driver.
    total_iterations: int = field(80, lo=1, resumable=True, doc="iterations of the run")
    iterations_per_call: int = field(10, lo=1, doc="iterations per compiled call")
    eval_every: int = field(20, lo=0, resumable=True,
                            doc="iterations between evaluations; 0: none")
    eval_games: int = field(200, lo=2, resumable=True,
                            doc="games against the random player per evaluation")
    eval_max_plies: int = field(512, lo=1, resumable=True, doc="ply cap of an evaluation game")
    eval_greedy: bool = field(False, resumable=True,
                              doc="play the most probable move in evaluations, else sample")
    eval_simulations: int = field(
        0, lo=0, resumable=True,
        doc="simulations per move of the learner in evaluations; 0: its raw policy")
    eval_ladder_games: int = field(
        32, lo=0, resumable=True, absent=0,
        doc="games against the greedy baseline and the previous evaluation's params (eval/greedy, "
            "eval/earlier); 0: off")
    checkpoint_every: int = field(20, lo=0, resumable=True,
                                  doc="iterations between checkpoints; 0: only at the end")
    keep_checkpoints: int = field(3, lo=1, resumable=True, doc="checkpoints kept")
    tensorboard: bool = field(True, resumable=True, doc="write tensorboard/ beside metrics.jsonl")

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.rollout_len

    def with_model(self, preset: str) -> TrainConfig:
        """This config with the tower of ``models.PRESETS[preset]``, keeping the compute dtype."""
        if preset not in PRESETS:
            raise ConfigError(f"unknown model preset {preset!r}; allowed: {sorted(PRESETS)}")
        return dataclasses.replace(
            self, model=dataclasses.replace(PRESETS[preset], dtype=self.model.dtype))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _leaves(cls: type, prefix: str = "") -> dict[str, dataclasses.Field]:
    out = {}
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(f.default):
            out.update(_leaves(type(f.default), f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = f
    return out


# The nested configs by field name ("model", "parallel").
NESTED: dict[str, dataclasses.Field] = {
    f.name: f for f in dataclasses.fields(TrainConfig) if dataclasses.is_dataclass(f.default)
}
# Every settable field by its dotted name ("lr", "model.channels", "parallel.num_workers"): the
# command line's flags, the keys of overrides, and what validation and the resume check walk.
FIELDS: dict[str, dataclasses.Field] = _leaves(TrainConfig)
# The fields that may differ between a checkpoint's config and the resuming run's.
RESUMABLE: frozenset[str] = frozenset(n for n, f in FIELDS.items() if f.metadata["resumable"])


def field_value(config: TrainConfig, name: str) -> Any:
    """The value of the dotted field ``name`` of ``config``."""
    for part in name.split("."):
        config = getattr(config, part)
    return config


def replace_fields(config: Any, values: dict[str, Any]) -> Any:
    """``config`` (any config dataclass) with the dotted fields of ``values`` replaced."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        head, dot, rest = name.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            top[name] = value
    for head, sub in nested.items():
        top[head] = replace_fields(getattr(config, head), sub)
    return dataclasses.replace(config, **top)


# Domain knowledge a run can be given, each field with the value that switches it off
# (docs/algorithms.md): the network's hand-made priors and input planes, reward shaping, and the
# search's mate-in-one look-ahead. AlphaZero as published uses none (``az_pure``); a checkpoint
# trained without the mate look-ahead is also played without the mate searches
# (``eval.checkpoint.LoadedPolicy.player``).
KNOWLEDGE_AIDS: dict[str, Any] = {
    "model.action_prior": False,       # capture/promotion/drop/king-proximity logit features
    "model.material_prior": False,     # material balance added to the value
    "model.threat_prior": False,       # each side's best capture added to the value
    "model.king_safety_prior": False,  # each king's exposure added to the value
    "model.attack_planes": False,      # attack counts per square on the input
    "material_shaping": 0.0,           # reward per pawn won, on self-play and search edges
    "check_bonus_pawns": 0.0,          # reward for giving check (in pawns)
    "search_mate_candidates": 0,       # a mate in one looked for at every search node
    "model.material_head": False,      # the game's final material as an auxiliary target
    "material_head_coef": 0.0,
}


def knowledge_aids(config: TrainConfig) -> list[str]:
    """The ``KNOWLEDGE_AIDS`` fields ``config`` switches on."""
    return [name for name, off in KNOWLEDGE_AIDS.items() if field_value(config, name) != off]


def without_knowledge_aids(config: TrainConfig) -> TrainConfig:
    """``config`` with every knowledge aid off (``KNOWLEDGE_AIDS``)."""
    return replace_fields(config, KNOWLEDGE_AIDS)


def replay_per_lane(config: TrainConfig) -> int:
    """Positions of the replay buffer on each lane (0: no buffer)."""
    return config.replay_size // config.num_envs


def replay_samples(config: TrainConfig) -> int:
    """Positions an iteration samples from the replay buffer: ``replay_reuse`` times those it
    adds, in whole minibatches (at least one)."""
    wanted = config.replay_reuse * config.steps_per_iteration
    return max(1, int(wanted // config.minibatch_size)) * config.minibatch_size


def updates_per_iteration(config: TrainConfig) -> int:
    """Optimizer updates (minibatches) of one iteration."""
    if config.replay_size:
        return replay_samples(config) // config.minibatch_size
    return config.num_epochs * (config.steps_per_iteration // config.minibatch_size)
