"""``ParallelManager`` (starts, watches, restarts and stops the workers; gathers segments) and
``ParallelTrainCall`` (a drop-in for the driver's jitted ``train_call`` that learns from them).

The learner waits on the workers' process sentinels with short timeouts, so a dead worker is seen
within milliseconds and a silent one within ``segment_timeout``; it never blocks on a lock or a
pipe a worker could hold. Worker deaths are restarted with a fresh seed up to ``max_restarts``;
past that, or if no worker delivers within the timeouts, ``ParallelTrainCall`` warns and goes on
with the sequential iteration from the same ``Runner``.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import connection
from typing import Any

import jax
import numpy as np

from keisei_jax import env, models
from keisei_jax.config import TrainConfig
from keisei_jax.parallel.communicator import (
    H_INCARNATION,
    H_SEQ,
    H_VERSION,
    SegmentSpec,
    WorkerCommunicator,
    segment_spec,
)
from keisei_jax.parallel.config import ParallelConfig, resolve
from keisei_jax.parallel.learner import make_collect, make_learn
from keisei_jax.parallel.synchronizer import ModelSynchronizer, params_layout
from keisei_jax.parallel.worker import SelfPlayWorker, WorkerArgs
from keisei_jax.ppo.rollout import Transition
from keisei_jax.ppo.train import make_train
from keisei_jax.trainer import Runner, Trainer


class WorkerFailure(RuntimeError):
    """The workers cannot deliver: start-up failed or timed out, or too many deaths."""


def spec_of(config: TrainConfig, parallel: ParallelConfig) -> SegmentSpec:
    """Segment shapes of a resolved ``parallel`` layout, traced from the worker's rollout."""
    model = models.make_model(config.model)
    apply_fn = models.apply_fn(model)
    collect = make_collect(config, lanes=parallel.lanes_per_worker,
                           segment_length=parallel.segment_length, first_lane=0, apply_fn=apply_fn)
    params = jax.eval_shape(lambda: models.init_params(model, jax.random.PRNGKey(0)))
    state = jax.eval_shape(lambda: env.init_batch(parallel.lanes_per_worker,
                                                  max_plies=config.max_plies))
    _, traj, last = jax.eval_shape(collect, params, state, jax.random.PRNGKey(0), 0.0)
    arrays = {f.name: getattr(traj, f.name) for f in dataclasses.fields(traj)}
    return segment_spec({**arrays, "last_value": last})


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr, flush=True)


class ParallelManager:
    """Owns the worker processes and the shared blocks (segments, params) of one run, laid out
    by ``trainer.config.parallel``."""

    def __init__(self, trainer: Trainer, *, log: Callable[[str], None] = _warn, fault: str = ""):
        self.config = trainer.config
        self.parallel = resolve(self.config.parallel, self.config)
        self.log, self.fault = log, fault
        p = self.parallel
        self.spec = spec_of(self.config, p)
        params = jax.eval_shape(trainer.init, jax.random.PRNGKey(0)).params
        self.comm = WorkerCommunicator(self.spec, num_workers=p.num_workers,
                                       slots_per_worker=p.slots_per_worker)
        try:
            self.sync = ModelSynchronizer(params_layout(params))
        except OSError:
            self.comm.close()
            raise
        self.workers: list[SelfPlayWorker | None] = [None] * p.num_workers
        self.incarnation = [0] * p.num_workers
        self.delivered = [False] * p.num_workers  # this incarnation has sent a segment
        self.restarts = 0
        self.dropped_stale = 0
        self.segments = 0
        self.lag_sum = 0
        self.collect_seconds = 0.0
        self._rotate = 0
        self._started_at = time.monotonic()
        self._stopped = False

    # Lifecycle.
    def start(self, params: Any, version: int) -> None:
        self.sync.publish(params, version)
        for w in range(self.parallel.num_workers):
            self._spawn(w)

    def _spawn(self, w: int) -> None:
        inc = self.incarnation[w]
        # A fresh seed for every (run seed, worker, incarnation).
        seed = int(np.random.SeedSequence([self.config.seed, w, inc]).generate_state(1)[0])
        worker = SelfPlayWorker(WorkerArgs(
            worker_id=w, incarnation=inc, seed=seed, config=self.config,
            parallel=self.parallel, segments_name=self.comm.name, params_name=self.sync.name,
            spec=self.spec,
            fault=self.fault,
        ))
        worker.start()
        self.workers[w] = worker
        self.delivered[w] = False
        self._started_at = time.monotonic()

    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w is not None and w.pid is not None]

    def _check_workers(self) -> None:
        for w, worker in enumerate(self.workers):
            if worker is None or worker.is_alive():
                continue
            code = worker.process.exitcode
            worker.stop(0.1)
            self.workers[w] = None
            self.restarts += 1
            if self.restarts > self.parallel.max_restarts:
                raise WorkerFailure(
                    f"worker {w} exited with code {code}: {self.restarts} worker deaths, more than "
                    f"parallel.max_restarts = {self.parallel.max_restarts}"
                )
            self.comm.reclaim(w)
            self.incarnation[w] += 1
            self.log(f"worker {w} exited with code {code}; restarting it with a fresh seed "
                     f"(restart {self.restarts} of at most {self.parallel.max_restarts})")
            self._spawn(w)

    def stop(self) -> None:
        """Stop every worker (stop word, then terminate, then kill) and free the shared blocks.
        Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.comm.control is not None:
            self.comm.control[:] = 1
        deadline = time.monotonic() + self.parallel.stop_timeout
        for w, worker in enumerate(self.workers):
            if worker is not None:
                worker.stop(max(0.1, deadline - time.monotonic()))
                self.workers[w] = None
        self.comm.close()
        self.sync.close()

    def __enter__(self) -> ParallelManager:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # Data.
    def collect(self, num_segments: int, *, version: int) -> tuple[Transition, np.ndarray]:
        """``num_segments`` segments side by side on the lane axis: (traj [T, n*B], last [n*B]).

        Segments made by params older than ``version - max_policy_lag`` are dropped and counted.
        Raises ``WorkerFailure`` on too many deaths or when nothing arrives within the timeouts.
        """
        p = self.parallel
        b = p.lanes_per_worker
        out = {name: np.empty((shape[0], num_segments * b, *shape[2:]) if name != "last_value"
                              else (num_segments * b,), dt)
               for name, shape, dt, _ in self.spec.layout}
        got = 0
        t0 = last_progress = time.monotonic()
        while got < num_segments:
            self._check_workers()
            progressed = False
            order = [(self._rotate + i) % p.num_workers for i in range(p.num_workers)]
            for w in order:
                slots = sorted(self.comm.ready_slots(w),
                               key=lambda s: self.comm.header(w, s)[H_SEQ])
                for slot in slots:
                    if got == num_segments:
                        break
                    h = self.comm.header(w, slot)
                    progressed = True
                    if h[H_INCARNATION] == self.incarnation[w]:
                        self.delivered[w] = True
                    lag = version - int(h[H_VERSION])
                    if lag > p.max_policy_lag:
                        self.dropped_stale += 1
                    else:
                        view = self.comm.view(w, slot)
                        lanes = slice(got * b, (got + 1) * b)
                        for name, arr in out.items():
                            if name == "last_value":
                                arr[lanes] = view[name]
                            else:
                                arr[:, lanes] = view[name]
                        got += 1
                        self.segments += 1
                        self.lag_sum += lag
                    self.comm.release(w, slot)
            self._rotate = (self._rotate + 1) % p.num_workers
            now = time.monotonic()
            if progressed:
                last_progress = now
                continue
            starting = not all(self.delivered)
            timeout = p.start_timeout if starting else p.segment_timeout
            if now - max(last_progress, self._started_at if starting else 0.0) > timeout:
                what = "start (import and compile)" if starting else "deliver a segment"
                raise WorkerFailure(
                    f"workers did not {what} within {timeout} s "
                    f"(parallel.{'start' if starting else 'segment'}_timeout); alive: "
                    f"{[w is not None and w.is_alive() for w in self.workers]}"
                )
            sentinels = [w.sentinel for w in self.workers if w is not None]
            connection.wait(sentinels, timeout=0.002)  # wakes at once if a worker dies
        self.collect_seconds += time.monotonic() - t0
        last = out.pop("last_value")
        return Transition(**out), last

    def health(self) -> dict[str, float]:
        alive = sum(w is not None and w.is_alive() for w in self.workers)
        return {
            "parallel/workers_alive": float(alive),
            "parallel/worker_restarts": float(self.restarts),
            "parallel/dropped_stale_segments": float(self.dropped_stale),
            "parallel/segments": float(self.segments),
            "parallel/mean_policy_lag": self.lag_sum / max(self.segments, 1),
            "parallel/learner_wait_seconds": self.collect_seconds,
        }


class ParallelTrainCall:
    """Callable like ``jax.jit(trainer.train_call)``: ``(runner) -> (runner, metrics)`` with
    metrics stacked over ``iterations_per_call`` iterations, learnt from the segments of the
    workers that ``trainer.config.parallel`` lays out.

    A context manager: on exit (also Ctrl-C or SIGTERM, turned into ``KeyboardInterrupt`` while
    inside) every worker is stopped and waited for. On ``WorkerFailure`` it warns once and runs
    the sequential iteration from then on, from the same runner.
    """

    def __init__(self, trainer: Trainer, *, log: Callable[[str], None] = _warn, fault: str = ""):
        self.trainer, self.log, self.fault = trainer, log, fault
        self.parallel = resolve(trainer.config.parallel, trainer.config)
        self.manager: ParallelManager | None = None
        self.fell_back: str | None = None  # the reason, once fallen back
        self._learn = jax.jit(make_learn(trainer), donate_argnums=0)
        self._sequential = None
        self._old_sigterm = None

    def __enter__(self) -> ParallelTrainCall:
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.manager is not None:
                self.manager.stop()
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    def health(self) -> dict[str, float]:
        out = self.manager.health() if self.manager is not None else {}
        out["parallel/fell_back"] = float(self.fell_back is not None)
        return out

    def _fall_back(self, err: Exception) -> None:
        self.fell_back = str(err)
        self.log(f"parallel self-play failed ({err}); stopping the workers and continuing with "
                 "the sequential path from the same state")
        if self.manager is not None:
            self.manager.stop()

    def _sequential_iteration(self, runner: Runner):
        if self._sequential is None:
            one = make_train(dataclasses.replace(self.trainer.config, iterations_per_call=1))
            self._sequential = jax.jit(one.train_call, donate_argnums=0)
        runner, metrics = self._sequential(runner)
        return runner, jax.tree_util.tree_map(lambda x: x[0], metrics)

    def __call__(self, runner: Runner) -> tuple[Runner, dict[str, np.ndarray]]:
        if self.manager is None and self.fell_back is None:
            try:
                self.manager = ParallelManager(self.trainer, log=self.log, fault=self.fault)
                self.manager.start(runner.params, int(runner.iteration))
            except OSError as err:  # no shared memory, no process: workers cannot start
                self._fall_back(WorkerFailure(f"cannot start the workers: {err}"))
        records = []
        for _ in range(self.trainer.config.iterations_per_call):
            if self.fell_back is None:
                try:
                    traj, last = self.manager.collect(self.parallel.num_workers,
                                                      version=int(runner.iteration))
                except WorkerFailure as err:
                    self._fall_back(err)
                else:
                    runner, metrics = self._learn(runner, traj, last)
                    self.manager.sync.publish(runner.params, int(runner.iteration))
                    records.append(jax.device_get(metrics))
                    continue
            runner, metrics = self._sequential_iteration(runner)
            records.append(jax.device_get(metrics))
        return runner, jax.tree_util.tree_map(lambda *xs: np.stack(xs), *records)


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")
