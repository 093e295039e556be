"""The multiprocess CPU fallback: self-play workers feeding the sequential path's PPO update.

On an accelerator the self-play workers are batch lanes of one compiled program. On a many-core
CPU host one XLA process does not use the cores well, so here each ``SelfPlayWorker`` process runs
the same jitted, vmapped rollout on its own lanes, ``WorkerCommunicator`` moves its segments
through shared memory, ``ModelSynchronizer`` publishes versioned params, and ``ParallelManager``
starts, watches and restarts the workers. ``ParallelTrainCall`` is a drop-in for the driver's
``train_call``.
"""

from keisei_jax.parallel.communicator import SegmentSpec, WorkerCommunicator, segment_spec
from keisei_jax.parallel.config import ParallelConfig, resolve
from keisei_jax.parallel.learner import make_learn
from keisei_jax.parallel.manager import (
    ParallelManager,
    ParallelTrainCall,
    WorkerFailure,
    spec_of,
)
from keisei_jax.parallel.synchronizer import ModelSynchronizer, ParamsLayout, params_layout
from keisei_jax.parallel.worker import SelfPlayWorker, WorkerArgs, worker_env

__all__ = [
    "ModelSynchronizer", "ParallelConfig", "ParallelManager", "ParallelTrainCall",
    "ParamsLayout", "SegmentSpec", "SelfPlayWorker", "WorkerArgs", "WorkerCommunicator",
    "WorkerFailure", "make_learn", "params_layout", "resolve", "segment_spec", "spec_of",
    "worker_env",
]
