"""Shared-memory rings, the params seqlock and the layout checks, in one process."""

import dataclasses

import numpy as np
import pytest

from keisei_jax.config import ConfigError, TrainConfig
from keisei_jax.parallel import (
    ModelSynchronizer,
    ParallelConfig,
    WorkerCommunicator,
    params_layout,
    resolve,
    segment_spec,
)
from keisei_jax.parallel.communicator import FREE, H_STATE, READY, WRITING


def _spec():
    return segment_spec({
        "obs": np.zeros((3, 2, 9, 9, 4), np.float32), "action": np.zeros((3, 2), np.int32),
        "terminated": np.zeros((3, 2), bool), "last_value": np.zeros((2,), np.float32),
    })


def test_ring_moves_a_segment_and_reclaims_a_dead_writer():
    owner = WorkerCommunicator(_spec(), num_workers=2, slots_per_worker=2)
    worker = WorkerCommunicator(_spec(), num_workers=2, slots_per_worker=2, name=owner.name)
    try:
        rng = np.random.default_rng(0)
        seg = {"obs": rng.normal(size=(3, 2, 9, 9, 4)).astype(np.float32),
               "action": rng.integers(0, 100, (3, 2)).astype(np.int32),
               "terminated": rng.random((3, 2)) < 0.5,
               "last_value": rng.normal(size=2).astype(np.float32)}
        slot = worker.acquire_slot(1)
        assert owner.header(1, slot)[H_STATE] == WRITING and owner.ready_slots(1) == []
        worker.publish(1, slot, seg, version=7, seq=0, incarnation=0)
        assert owner.ready_slots(1) == [slot] and owner.ready_slots(0) == []
        for name, arr in seg.items():
            np.testing.assert_array_equal(owner.view(1, slot)[name], arr)
        owner.release(1, slot)
        assert owner.header(1, slot)[H_STATE] == FREE

        # A worker that dies holding WRITING slots: reclaim frees them, READY ones stay.
        a, b = worker.acquire_slot(0), worker.acquire_slot(0)
        worker.publish(0, b, seg, version=1, seq=1, incarnation=0)
        owner.reclaim(0)
        assert owner.header(0, a)[H_STATE] == FREE and owner.header(0, b)[H_STATE] == READY

        with pytest.raises(ValueError, match="'action' has shape"):
            worker.publish(0, a, dict(seg, action=np.zeros((2, 2), np.int32)), version=1,
                           seq=2, incarnation=0)
        owner.control[0] = 1  # stop word: a worker with a full ring gives up waiting
        worker.acquire_slot(0)
        assert worker.acquire_slot(0) is None
    finally:
        worker.close()
        owner.close()


def test_params_seqlock_versions():
    params = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": {"c": np.ones(5, np.int32)}}
    layout = params_layout(params)
    owner = ModelSynchronizer(layout)
    reader = ModelSynchronizer(layout, name=owner.name)
    try:
        assert reader.read() is None  # nothing published yet
        owner.publish(params, 3)
        version, got = reader.read()
        assert version == 3
        np.testing.assert_array_equal(got["a"], params["a"])
        np.testing.assert_array_equal(got["b"]["c"], params["b"]["c"])
        assert reader.read(newer_than=3) is None
        owner.publish({"a": params["a"] * 2, "b": params["b"]}, 4)
        version, got = reader.read(newer_than=3)
        assert version == 4 and got["a"][1, 2] == 10.0
    finally:
        reader.close()
        owner.close()


def test_resolve_derives_sizes_and_names_bad_values():
    cfg = TrainConfig(num_envs=8, rollout_len=4, minibatch_size=8)
    p = resolve(ParallelConfig(num_workers=2), cfg)
    assert (p.lanes_per_worker, p.segment_length) == (4, 4)
    with pytest.raises(ConfigError, match="parallel.num_workers"):
        resolve(ParallelConfig(num_workers=0), cfg)
    with pytest.raises(ConfigError, match="parallel.start_timeout"):
        resolve(ParallelConfig(start_timeout=0.0), cfg)
    with pytest.raises(ConfigError, match="expected num_envs \\* rollout_len = 32"):
        resolve(ParallelConfig(num_workers=3), cfg)
    assert resolve(dataclasses.replace(p, lanes_per_worker=2, segment_length=8), cfg)
