"""Scale-out with JAX's own runtime: one device mesh over every device of every process.

The game lanes (``Runner.env_state``, leading axis ``num_envs``) are split over the mesh axis
``"data"``; parameters, optimizer state, RNG key and counter are replicated. ``jax.jit`` with
these shardings compiles the training loop as one SPMD program: every device plays its own lanes,
each shuffled minibatch is split the same way (``make_train(config, mesh=...)``), and the loss
means over it become all-reduces, so the gradients are averaged across devices inside the
compiled update. One device is the mesh of size one: the same code path runs on a laptop and on a
pod slice.

Multi-host: every process calls ``initialize`` before any other JAX call, then builds the same
mesh over ``jax.devices()`` (all processes' devices); each process holds only its lanes. Only
process 0 writes logs (``is_main_process``); orbax coordinates checkpoints across processes.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from keisei_jax.algos import make_train
from keisei_jax.config import ConfigError, TrainConfig
from keisei_jax.trainer import Trainer

DATA_AXIS = "data"

# Environment variables under which ``jax.distributed.initialize`` finds the cluster by itself.
_AUTO_DETECTED = ("SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE", "TPU_WORKER_HOSTNAMES",
                  "MEGASCALE_COORDINATOR_ADDRESS")


def initialize(
    *,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    auto: bool = False,
) -> bool:
    """Join a multi-process run through ``jax.distributed.initialize``; must precede any other
    JAX call. Returns whether the distributed runtime was started.

    With explicit arguments they are passed on (all three are needed off a managed cluster).
    With ``auto`` JAX detects the cluster (Cloud TPU pod slices, SLURM, Open MPI). With neither,
    a single process runs and nothing is initialised.
    """
    explicit = (coordinator_address, num_processes, process_id)
    if any(v is not None for v in explicit):
        if any(v is None for v in explicit):
            raise ValueError(
                f"multi-process flags need all of coordinator_address, num_processes and "
                f"process_id (or none with auto); got coordinator_address="
                f"{coordinator_address!r}, num_processes={num_processes!r}, "
                f"process_id={process_id!r}"
            )
        if not 0 <= process_id < num_processes:
            raise ValueError(f"bad process_id {process_id!r}: expected 0 <= id < {num_processes}")
        jax.distributed.initialize(
            coordinator_address=coordinator_address, num_processes=num_processes,
            process_id=process_id,
        )
        return True
    if auto:
        jax.distributed.initialize()
        return True
    return False


def cluster_detected() -> bool:
    """True where ``initialize(auto=True)`` can find the other processes by itself."""
    return any(name in os.environ for name in _AUTO_DETECTED)


_barriers = itertools.count()


def barrier(name: str, *, timeout_s: int = 900) -> None:
    """Wait until every process reaches this point (nothing to do with one process).

    Uses the coordination service's barrier (orbax's multi-host code calls the same client): its
    timeout is ours, where the first cross-process collective waits only 30 s for its peers.
    """
    if jax.process_count() == 1:
        return
    from jax._src import distributed as jax_distributed  # no public barrier without a collective

    jax_distributed.global_state.client.wait_at_barrier(f"{name}_{next(_barriers)}",
                                                        timeout_s * 1000)


def is_main_process() -> bool:
    """Process 0 writes metrics and config files; every process computes and checkpoints."""
    return jax.process_index() == 0


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``"data"`` over ``devices`` (default: every device of every
    process)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("make_mesh needs at least one device; got an empty list")
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def check_divisible(config: TrainConfig, mesh: Mesh) -> None:
    """Lanes and minibatches must split evenly over the mesh; raises ``ConfigError`` if not."""
    n = mesh.size
    for name in ("num_envs", "minibatch_size"):
        value = getattr(config, name)
        if value % n:
            raise ConfigError(
                f"bad value {value!r} for {name!r}: expected a multiple of the {n} devices of "
                "the mesh (each device takes an equal share)"
            )


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def data_sharded(mesh: Mesh, axis: int = 0) -> NamedSharding:
    """Split dimension ``axis`` over the mesh, the rest replicated."""
    return NamedSharding(mesh, PartitionSpec(*([None] * axis), DATA_AXIS))


def runner_shardings(mesh: Mesh, runner: Any) -> Any:
    """Shardings shaped like ``runner`` (a ``Runner`` or its ``jax.eval_shape``): the games and
    the replay buffer (laid out by game lane) split over ``"data"``, everything else
    replicated."""
    repl, data = replicated(mesh), data_sharded(mesh)
    everything = jax.tree_util.tree_map(lambda _: repl, runner)
    lanes = lambda tree: jax.tree_util.tree_map(lambda _: data, tree)  # noqa: E731
    return dataclasses.replace(everything, env_state=lanes(runner.env_state),
                               replay=lanes(runner.replay))


@dataclasses.dataclass(frozen=True)
class ShardedTrainer:
    """A trainer's functions compiled for one mesh.

      trainer: the ``trainer.Trainer`` (its model, evaluate, learning_rate), built for ``mesh``.
      init(key) -> Runner, already laid out (each process builds only its lanes).
      train_call(runner) -> (runner, metrics); the runner argument is donated.
      shardings: the Runner's shardings (also the restore template's).
    """

    trainer: Trainer
    mesh: Mesh
    init: Callable[[jax.Array], Any]
    train_call: Callable[[Any], tuple[Any, dict[str, jax.Array]]]
    shardings: Any


@functools.lru_cache(maxsize=4)
def shard_trainer(config: TrainConfig, mesh: Mesh) -> ShardedTrainer:
    """The trainer of ``config.algo`` (``algos.make_train``) jitted over ``mesh``; see
    ``ShardedTrainer``. Kept per ``(config, mesh)`` (the last four): a second run of a config in
    one process (a resume, a notebook cell run again) reuses the traced and compiled call
    instead of tracing it again and compiling or reading it back."""
    check_divisible(config, mesh)
    trainer = make_train(config, mesh=mesh)
    abstract = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    shardings = runner_shardings(mesh, abstract)
    if jax.process_count() == 1:
        # Built as before and then laid out: the same values as an unsharded run, bit for bit.
        def init(key):
            return place(trainer.init(key), shardings)
    else:
        # Each process may hold only its own lanes, so the arrays are built inside jit.
        init = jax.jit(trainer.init, out_shardings=shardings)
    train_call = jax.jit(
        trainer.train_call, in_shardings=(shardings,), out_shardings=(shardings, replicated(mesh)),
        donate_argnums=0,
    )
    if jax.process_count() > 1:
        train_call = _compile_then_meet(train_call)
    return ShardedTrainer(trainer=trainer, mesh=mesh, init=init, train_call=train_call,
                          shardings=shardings)


def _compile_then_meet(jitted: Callable) -> Callable:
    """``jitted`` compiled on the first call, then a barrier before it runs: processes compile at
    different speeds, and the first collective gives a late peer only 30 s."""
    compiled = []

    def call(runner):
        if not compiled:
            compiled.append(jitted.lower(runner).compile())
            barrier("train_call_compiled")
        return compiled[0](runner)

    return call


def place(tree: Any, shardings: Any) -> Any:
    """Lay out a host-built or single-device ``tree`` with ``shardings`` (one process only;
    across processes build arrays inside ``jit`` with ``out_shardings`` instead)."""
    return jax.device_put(tree, shardings)
