"""CPU default: the ``small`` tower (local policy head + learned action prior), material and
check shaping annealed away over the first 70% of the run; ~6 minutes on 2 idle cores.

Minibatches of 64 give 64 gradient steps per 2,048 env steps at the same arithmetic as fewer,
larger ones; here the learner is short of steps, not of data (README: "Learning curve").
"""

from keisei_jax.config import TrainConfig
from keisei_jax.models import PRESETS


def get_config() -> TrainConfig:
    return TrainConfig(
        num_envs=64,
        rollout_len=32,
        max_plies=512,
        num_epochs=2,
        minibatch_size=64,
        lr=1e-3,
        lr_schedule="linear",
        gae_lambda=0.8,
        entropy_coef=0.005,
        material_shaping=0.02,
        check_shaping=2.0,
        shaping_anneal_frac=0.7,
        total_iterations=80,
        iterations_per_call=10,
        eval_every=20,
        eval_games=200,
        eval_ladder_games=32,
        eval_greedy=False,
        checkpoint_every=20,
        model=PRESETS["small"],
    )
