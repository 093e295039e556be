"""``ModelSynchronizer``: versioned params in shared memory, one writer, any number of readers.

The learner writes the flattened params under a sequence counter (odd while writing, a seqlock);
a worker copies them out and keeps the copy only if the counter did not move meanwhile. Readers
never take a lock, so a worker killed mid-read cannot stall the learner, and the learner never
waits for a reader.
"""

from __future__ import annotations

import dataclasses
import time
from multiprocessing import shared_memory
from typing import Any

import jax
import numpy as np

_SEQ, _VERSION = 0, 1
_HEADER_BYTES = 64


@dataclasses.dataclass(frozen=True)
class ParamsLayout:
    """Where each params leaf lives in the flat byte buffer (leaf order of ``treedef``)."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[np.dtype, ...]
    offsets: tuple[int, ...]
    nbytes: int


def params_layout(params: Any) -> ParamsLayout:
    """Layout of a params pytree (arrays or ``jax.ShapeDtypeStruct``s)."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    shapes = tuple(tuple(x.shape) for x in leaves)
    dtypes = tuple(np.dtype(x.dtype) for x in leaves)
    offsets, offset = [], 0
    for shape, dt in zip(shapes, dtypes, strict=False):
        offsets.append(offset)
        offset += -(-int(np.prod(shape)) * dt.itemsize // 64) * 64
    return ParamsLayout(treedef, shapes, dtypes, tuple(offsets), offset)


class ModelSynchronizer:
    """Owns (``name=None``) or attaches to the params block of one run."""

    def __init__(self, layout: ParamsLayout, *, name: str | None = None):
        self.layout = layout
        self.owner = name is None
        self.shm = shared_memory.SharedMemory(
            name=name, create=self.owner, size=_HEADER_BYTES + max(layout.nbytes, 1)
        )
        self._header = np.ndarray((2,), np.int64, buffer=self.shm.buf)
        self._leaves = [
            np.ndarray(shape, dt, buffer=self.shm.buf, offset=_HEADER_BYTES + off)
            for shape, dt, off in zip(layout.shapes, layout.dtypes, layout.offsets, strict=False)
        ]
        if self.owner:
            self._header[:] = (0, -1)  # version -1: nothing published yet

    @property
    def name(self) -> str:
        return self.shm.name

    def publish(self, params: Any, version: int) -> None:
        """Learner: make ``params`` (a host or device pytree) the newest, tagged ``version``."""
        leaves = jax.tree_util.tree_leaves(jax.device_get(params))
        if len(leaves) != len(self._leaves):
            raise ValueError(f"params have {len(leaves)} leaves, the layout {len(self._leaves)}")
        self._header[_SEQ] += 1
        for dst, src in zip(self._leaves, leaves, strict=False):
            np.copyto(dst, src)
        self._header[_VERSION] = version
        self._header[_SEQ] += 1

    def version(self) -> int:
        return int(self._header[_VERSION])

    def read(self, *, newer_than: int = -1, timeout: float = 60.0) -> tuple[int, Any] | None:
        """Worker: ``(version, params)`` if a version above ``newer_than`` is published, else
        None. Raises ``TimeoutError`` if a consistent copy cannot be taken within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seq = int(self._header[_SEQ])
            if seq % 2 == 0:
                version = int(self._header[_VERSION])
                if version <= newer_than:
                    return None
                leaves = [x.copy() for x in self._leaves]
                if int(self._header[_SEQ]) == seq:
                    return version, jax.tree_util.tree_unflatten(self.layout.treedef, leaves)
            time.sleep(0.001)
        raise TimeoutError(f"no consistent params copy within {timeout} s (seq {seq})")

    def close(self) -> None:
        self._header, self._leaves = None, []
        self.shm.close()
        if self.owner:
            self.shm.unlink()
