"""One tiny config for every parallel test, so the compiled programs are shared (persistent
cache) between the learner test, the workers' learner and the sequential fall-back."""

import dataclasses
import functools

from experiments.configs import tiny
from keisei_jax.ppo import make_train


@functools.cache
def tiny_trainer():
    # experiments/train.py --config tiny with these flags builds the same config (and programs).
    cfg = dataclasses.replace(tiny.get_config(), iterations_per_call=1, material_shaping=0.05,
                              shaping_anneal_frac=0.5, check_shaping=0.5,
                              total_iterations=400)
    return make_train(cfg)
