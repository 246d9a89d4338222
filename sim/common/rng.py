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
    "rules",
    "ground_time",
    "load_factor",
    # one stream per vehicle, named ``availability:<vehicle>`` (``sim/core/availability.py``)
    "availability",
    "release",
    "custody",
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

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        self._seed = seed
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            seq = np.random.SeedSequence(self._seed, spawn_key=(_stream_key(name),))
            gen = np.random.Generator(np.random.PCG64(seq))
            self._generators[name] = gen
        return gen


def replication_seed(master_seed: int, index: int) -> int:
    """The plain integer run seed of replication ``index`` under ``master_seed``.

    ``SeedSequence(master_seed, spawn_key=(index,))`` is the ``index``-th child of
    ``SeedSequence(master_seed).spawn``, computed directly so that a worker needs
    only (master_seed, index) and results do not depend on how replications are
    split between workers. Its first 64-bit state word, shifted right by 11 bits
    (53 bits: exact in JSON and float64 tools), is the seed passed to ``run``, so
    ``dtsim run --seed <that int>`` reproduces the replication exactly.
    """
    if master_seed < 0 or index < 0:
        raise ValueError("seeds and replication indices must be non-negative")
    state = np.random.SeedSequence(master_seed, spawn_key=(index,)).generate_state(1, np.uint64)
    return int(state[0]) >> 11
