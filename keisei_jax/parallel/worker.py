"""``SelfPlayWorker``: one spawned process running the jitted, vmapped rollout on its own lanes.

The worker plays ``lanes_per_worker`` games with the same ``ppo.rollout.rollout`` as the
sequential path and ships fixed-length segments; its games continue from one segment to the next
(the segment's ``last_value`` bootstraps GAE at the cut, exactly as the sequential iteration does),
so no advantage ever runs across two unrelated games. Between segments it picks up the newest
params every ``sync_interval`` segments; each segment carries the version that produced it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing as mp
import os
import signal
import sys
import threading

from keisei_jax.config import TrainConfig
from keisei_jax.parallel.communicator import SegmentSpec
from keisei_jax.parallel.config import ParallelConfig

_ENV_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class WorkerArgs:
    """Everything a worker process needs (pickled once, at spawn)."""

    worker_id: int
    incarnation: int
    seed: int
    config: TrainConfig
    parallel: ParallelConfig  # resolved
    segments_name: str
    params_name: str
    spec: SegmentSpec
    fault: str = ""  # tests only: "exit_at_start" makes the process die before it starts


def worker_env(parallel: ParallelConfig) -> dict[str, str]:
    """Environment of a worker: XLA and BLAS limited to ``xla_threads_per_worker`` threads, so
    N workers on N cores do not oversubscribe them (set before the child imports jax)."""
    threads = str(parallel.xla_threads_per_worker)
    flags = os.environ.get("XLA_FLAGS", "")
    eigen = "true" if parallel.xla_threads_per_worker > 1 else "false"
    flags += f" --xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
    return {"XLA_FLAGS": flags.strip(), "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "JAX_PLATFORMS": "cpu"}


class SelfPlayWorker:
    """Owns one worker process (spawn start method: JAX is not fork-safe)."""

    def __init__(self, args: WorkerArgs):
        self.args = args
        ctx = mp.get_context("spawn")
        self.process = ctx.Process(target=_main, args=(args,), daemon=True,
                                   name=f"selfplay-{args.worker_id}.{args.incarnation}")

    def start(self) -> None:
        child_env = worker_env(self.args.parallel)
        # Share the learner's persistent compilation cache, so a restart does not recompile.
        import jax  # the learner has it imported already

        cache = jax.config.jax_compilation_cache_dir
        if cache:
            child_env["JAX_COMPILATION_CACHE_DIR"] = str(cache)
            child_env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(
                jax.config.jax_persistent_cache_min_compile_time_secs)
        # A spawned child inherits os.environ at start(); patch it only for that moment.
        with _ENV_LOCK:
            saved = {k: os.environ.get(k) for k in child_env}
            os.environ.update(child_env)
            try:
                self.process.start()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.is_alive()

    @property
    def sentinel(self) -> int:
        return self.process.sentinel

    def stop(self, timeout: float) -> None:
        """Join within ``timeout`` (the stop word is already set), then terminate, then kill."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)
        self.process.close()


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the learner dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _main(args: WorkerArgs) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the learner, which stops us
    _die_with_parent()
    if args.fault == "exit_at_start":
        os._exit(3)

    import time

    import jax
    import numpy as np

    from keisei_jax import env, models
    from keisei_jax.parallel.communicator import WorkerCommunicator
    from keisei_jax.parallel.learner import make_collect
    from keisei_jax.parallel.synchronizer import ModelSynchronizer, params_layout
    from keisei_jax.shaping import material_coef

    cfg, par, me = args.config, args.parallel, args.worker_id
    model = models.make_model(cfg.model)
    layout = params_layout(jax.eval_shape(lambda: models.init_params(model, jax.random.PRNGKey(0))))
    comm = WorkerCommunicator(args.spec, num_workers=par.num_workers,
                              slots_per_worker=par.slots_per_worker, name=args.segments_name)
    sync = ModelSynchronizer(layout, name=args.params_name)
    collect = jax.jit(make_collect(
        cfg, lanes=par.lanes_per_worker, segment_length=par.segment_length,
        first_lane=me * par.lanes_per_worker,
        apply_fn=models.apply_fn(model),
    ))

    try:
        state = env.init_batch(par.lanes_per_worker, max_plies=cfg.max_plies)
        key = jax.random.PRNGKey(args.seed)
        version, params = -1, None
        seq = 0
        while not comm.control[me]:
            if params is None or seq % par.sync_interval == 0:
                got = sync.read(newer_than=version, timeout=par.segment_timeout)
                if got is not None:
                    version, params = got
                    params = jax.device_put(params)
                elif params is None:  # nothing published yet
                    time.sleep(0.01)
                    continue
            key, k = jax.random.split(key)
            state, traj, last_value = collect(params, state, k, material_coef(cfg, version))
            segment = {f.name: np.asarray(getattr(traj, f.name))
                       for f in dataclasses.fields(traj)}
            segment["last_value"] = np.asarray(last_value)
            slot = comm.acquire_slot(me)
            if slot is None:
                break
            comm.publish(me, slot, segment, version=version, seq=seq,
                         incarnation=args.incarnation)
            seq += 1
    finally:
        comm.close()
        sync.close()
