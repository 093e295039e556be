"""CPU default: the ``small`` tower, material shaping annealed away, ~12 minutes on 2 cores."""

from keisei_jax.config import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig(
        num_envs=64,
        rollout_len=32,
        max_plies=512,
        num_epochs=2,
        minibatch_size=512,
        lr=3e-4,
        lr_schedule="linear",
        entropy_coef=0.01,
        material_shaping=0.01,
        shaping_anneal_frac=0.7,
        total_iterations=200,
        iterations_per_call=10,
        eval_every=50,
        eval_games=200,
        checkpoint_every=50,
    ).with_model("small")
