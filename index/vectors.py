"""A bounded, thread-safe LRU of embeddings (read-only arrays), filled in batches."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from threading import Lock

import numpy as np


class VectorCache:
    """The vectors of the last `size` keys used. `get(keys, embed)` embeds only the keys it does
    not hold, in one call to `embed`, and returns the vectors in the order of `keys`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, keys: Sequence[str], embed: Callable[[list[str]], Sequence]) -> list[np.ndarray]:
        with self._lock:
            found = {k: v for k in dict.fromkeys(keys) if (v := self._vectors.get(k)) is not None}
            for k in found:
                self._vectors.move_to_end(k)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:  # embedded outside the lock: other threads read meanwhile
            for k, v in zip(missing, embed(missing)):
                v = np.asarray(v, dtype=np.float32)
                v.setflags(write=False)
                found[k] = v
            with self._lock:
                for k in missing:
                    self._vectors[k] = found[k]
                    self._vectors.move_to_end(k)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return [found[k] for k in keys]
