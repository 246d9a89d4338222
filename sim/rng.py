"""Named random streams derived from one seed per run.

Every source of randomness in a run draws from its own named stream so that
two scenarios run with the same seed see the same random numbers on the same
stream (common random numbers), and adding a new stream never shifts an
existing one. There is no global random state anywhere in the package.
"""

from __future__ import annotations

import hashlib

import numpy as np

STREAM_NAMES: tuple[str, ...] = (
    "flight",
    "loading",
    "failures",
    "weather",
    "front",
    "breakouts",
    "registration",
    "turnaround",
)


def _stream_key(name: str) -> int:
    """A stable 32-bit integer for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


class Streams:
    """A family of independent numpy generators, one per stream name.

    The generator for ``name`` is seeded by ``SeedSequence(seed, spawn_key=(key(name),))``,
    which depends only on the run seed and the name, never on the order in which
    streams are requested.
    """

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        if isinstance(seed, np.random.SeedSequence):
            self._entropy = seed.entropy
            self._base_key = tuple(seed.spawn_key)
        else:
            if seed < 0:
                raise ValueError("seed must be a non-negative integer")
            self._entropy = seed
            self._base_key = ()
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            seq = np.random.SeedSequence(
                self._entropy, spawn_key=(*self._base_key, _stream_key(name))
            )
            gen = np.random.Generator(np.random.PCG64(seq))
            self._generators[name] = gen
        return gen


def replication_seed(master_seed: int, index: int) -> np.random.SeedSequence:
    """Seed sequence of replication ``index`` under ``master_seed``.

    Equivalent to ``SeedSequence(master_seed).spawn(index + 1)[index]`` but computed
    directly, so a worker needs only (master_seed, index) and the result does not
    depend on how replications are split between workers.
    """
    return np.random.SeedSequence(master_seed, spawn_key=(index,))
