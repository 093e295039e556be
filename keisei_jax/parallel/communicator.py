"""``WorkerCommunicator``: trajectory segments from workers to the learner through shared memory.

Each worker owns a ring of ``slots_per_worker`` slots in one shared block; a slot holds a whole
segment (every ``Transition`` field as ``[T, B, ...]`` plus the bootstrap ``last_value[B]``) and a
small header. Slot ownership moves by a state word that has a single writer at each stage:

  FREE --worker--> WRITING --worker--> READY --learner--> FREE

so nothing is pickled but a tiny "slot k is ready" note on the worker's own pipe, the ring is the
bound on segments in flight (a worker with no FREE slot waits), and a worker killed mid-write only
leaves a WRITING slot that the learner frees when it restarts that worker. Control from the
learner (stop) is a word in the same block: no lock is ever shared with a process that can die.
"""

from __future__ import annotations

import dataclasses
import time
from multiprocessing import shared_memory

import numpy as np

FREE, WRITING, READY = 0, 1, 2
# Slot header words.
H_STATE, H_VERSION, H_SEQ, H_INCARNATION = range(4)
_HEADER_WORDS = 8
_ALIGN = 64


@dataclasses.dataclass(frozen=True)
class SegmentSpec:
    """Shapes of one segment. ``fields``: name -> (shape, dtype str), shapes ``[T, B, ...]``."""

    fields: tuple[tuple[str, tuple[int, ...], str], ...]

    @property
    def layout(self) -> tuple[tuple[str, tuple[int, ...], np.dtype, int], ...]:
        """(name, shape, dtype, byte offset within a slot's data area)."""
        out, offset = [], 0
        for name, shape, dtype in self.fields:
            dt = np.dtype(dtype)
            out.append((name, shape, dt, offset))
            offset += -(-int(np.prod(shape)) * dt.itemsize // _ALIGN) * _ALIGN
        return tuple(out)

    @property
    def nbytes(self) -> int:
        name, shape, dt, offset = self.layout[-1]
        return offset + -(-int(np.prod(shape)) * dt.itemsize // _ALIGN) * _ALIGN


def segment_spec(arrays: dict[str, object]) -> SegmentSpec:
    """Spec of a segment from its arrays (or ``jax.ShapeDtypeStruct``s): every ``Transition``
    field ``[T, B, ...]`` and ``last_value[B]``."""
    return SegmentSpec(fields=tuple(
        (name, tuple(int(d) for d in a.shape), np.dtype(a.dtype).name) for name, a in arrays.items()
    ))


class WorkerCommunicator:
    """Owns (``create=True``) or attaches to the shared block of all workers' segment rings.

    Block layout: control words int64[num_workers] (1 = stop), then per slot a header
    int64[8] and the segment data.
    """

    def __init__(self, spec: SegmentSpec, *, num_workers: int, slots_per_worker: int,
                 name: str | None = None):
        self.spec, self.num_workers, self.slots = spec, num_workers, slots_per_worker
        self._slot_bytes = _HEADER_WORDS * 8 + spec.nbytes
        self._ctrl_bytes = -(-num_workers * 8 // _ALIGN) * _ALIGN
        size = self._ctrl_bytes + num_workers * slots_per_worker * self._slot_bytes
        self.owner = name is None
        self.shm = shared_memory.SharedMemory(name=name, create=self.owner, size=size)
        buf = self.shm.buf
        self.control = np.ndarray((num_workers,), np.int64, buffer=buf)
        self._headers, self._views = [], []
        for i in range(num_workers * slots_per_worker):
            base = self._ctrl_bytes + i * self._slot_bytes
            self._headers.append(np.ndarray((_HEADER_WORDS,), np.int64, buffer=buf, offset=base))
            data = base + _HEADER_WORDS * 8
            self._views.append({
                n: np.ndarray(shape, dt, buffer=buf, offset=data + off)
                for n, shape, dt, off in spec.layout
            })
        if self.owner:
            self.control[:] = 0
            for h in self._headers:
                h[:] = 0

    @property
    def name(self) -> str:
        return self.shm.name

    def header(self, worker: int, slot: int) -> np.ndarray:
        return self._headers[worker * self.slots + slot]

    def view(self, worker: int, slot: int) -> dict[str, np.ndarray]:
        return self._views[worker * self.slots + slot]

    # Worker side.
    def acquire_slot(self, worker: int, *, poll: float = 0.002) -> int | None:
        """A FREE slot of ``worker`` marked WRITING, or None once the learner asks it to stop."""
        while True:
            if self.control[worker]:
                return None
            for slot in range(self.slots):
                h = self.header(worker, slot)
                if h[H_STATE] == FREE:
                    h[H_STATE] = WRITING
                    return slot
            time.sleep(poll)

    def publish(self, worker: int, slot: int, segment: dict[str, np.ndarray], *, version: int,
                seq: int, incarnation: int) -> None:
        view = self.view(worker, slot)
        for name, arr in segment.items():
            if arr.shape != view[name].shape:
                raise ValueError(f"segment field {name!r} has shape {arr.shape}, expected "
                                 f"{view[name].shape}")
            np.copyto(view[name], arr, casting="same_kind")
        h = self.header(worker, slot)
        h[H_VERSION], h[H_SEQ], h[H_INCARNATION] = version, seq, incarnation
        h[H_STATE] = READY  # last: the learner reads nothing of a slot before this word

    # Learner side.
    def release(self, worker: int, slot: int) -> None:
        self.header(worker, slot)[H_STATE] = FREE

    def reclaim(self, worker: int) -> None:
        """Free the slots a dead ``worker`` was writing (READY ones stay: they are complete)."""
        for slot in range(self.slots):
            h = self.header(worker, slot)
            if h[H_STATE] == WRITING:
                h[H_STATE] = FREE

    def ready_slots(self, worker: int) -> list[int]:
        return [s for s in range(self.slots) if self.header(worker, s)[H_STATE] == READY]

    def close(self) -> None:
        # Views must go before the buffer can be released.
        self.control = None
        self._headers, self._views = [], []
        self.shm.close()
        if self.owner:
            self.shm.unlink()
