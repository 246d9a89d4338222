"""Named random streams derived from one seed per run.

Every source of randomness in a run draws from its own named stream so that
two scenarios run with the same seed see the same random numbers on the same
stream (common random numbers), and adding a new stream never shifts an
existing one. There is no global random state anywhere in the package.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, cast

import numpy as np
from numpy.random.bit_generator import ISeedSequence

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


@functools.lru_cache(maxsize=100_000)  # the names of a process's runs: vehicles, streams
def _stream_key(name: str) -> int:
    """A stable 32-bit integer for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


# ----- numpy's SeedSequence, for one spawn key of 32 bits --------------------------------
# The constants and steps of ``numpy.random.SeedSequence`` (``bit_generator.pyx``, the
# hash mixing of M. E. O'Neill's seed_seq). A run makes some 45 streams (one per vehicle
# among them), and numpy's ``SeedSequence`` and ``PCG64(seq)`` take about 35
# microseconds each, mostly in argument checks and array conversions (a baseline run
# takes about 40 milliseconds). The run seed's part of the mixing is the same for all of
# a run's streams, so it is done once per run (``_SeedMix``), and each stream mixes in
# only its name's key and draws PCG64's four words: the same words, hence the same
# generator (``tests/scenario/test_rng_streams.py`` compares them with numpy's own).
_MASK32 = 0xFFFF_FFFF
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = 0xCA01F9DD
_MIX_MULT_R = 0x4973F715
_XSHIFT = 16
_POOL_SIZE = 4


def _uint32_words(n: int) -> list[int]:
    """``n`` as 32-bit words, least significant first (numpy's ``_int_to_uint32_array``)."""
    if n == 0:
        return [0]
    words = []
    while n > 0:
        words.append(n & _MASK32)
        n >>= 32
    return words


def _hash_constants(init: int, mult: int, count: int) -> list[tuple[int, int]]:
    """The hash constant before and after each of ``count`` steps from ``init``: a hash
    step xors a value with the first and multiplies it by the second."""
    out = []
    const = init
    for _ in range(count):
        after = (const * mult) & _MASK32
        out.append((const, after))
        const = after
    return out


_STATE_CONSTANTS = _hash_constants(_INIT_B, _MULT_B, 8)
"""``generate_state``'s constants for 8 words of 32 bits (PCG64 asks for 4 of 64)."""


class _SeedMix:
    """SeedSequence's entropy pool after mixing a run seed, before the spawn key."""

    __slots__ = ("pool", "key_constants")

    def __init__(self, seed: int) -> None:
        entropy = _uint32_words(seed)
        if len(entropy) < _POOL_SIZE:  # padded when there is a spawn key, as numpy does
            entropy += [0] * (_POOL_SIZE - len(entropy))
        const = _INIT_A

        def hashmix(value: int) -> int:
            nonlocal const
            value ^= const
            const = (const * _MULT_A) & _MASK32
            value = (value * const) & _MASK32
            return value ^ (value >> _XSHIFT)

        pool = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
        for src in range(_POOL_SIZE):
            for dst in range(_POOL_SIZE):
                if src != dst:
                    pool[dst] = _mix(pool[dst], hashmix(pool[src]))
        for word in entropy[_POOL_SIZE:]:
            for dst in range(_POOL_SIZE):
                pool[dst] = _mix(pool[dst], hashmix(word))
        self.pool = pool
        # The next pool-size hash steps mix in the spawn key's one word.
        self.key_constants = _hash_constants(const, _MULT_A, _POOL_SIZE)

    def pcg64_words(self, key: int) -> list[int]:
        """The four 64-bit words ``SeedSequence(seed, spawn_key=(key,))`` gives PCG64."""
        pool = []
        for word, (before, after) in zip(self.pool, self.key_constants, strict=True):
            value = ((key ^ before) * after) & _MASK32
            pool.append(_mix(word, value ^ (value >> _XSHIFT)))
        out = []
        for i, (before, after) in enumerate(_STATE_CONSTANTS):
            value = ((pool[i % _POOL_SIZE] ^ before) * after) & _MASK32
            out.append(value ^ (value >> _XSHIFT))
        return [out[0] | out[1] << 32, out[2] | out[3] << 32,
                out[4] | out[5] << 32, out[6] | out[7] << 32]


def _mix(x: int, y: int) -> int:
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


class _Derived(ISeedSequence):
    """The state words of one stream, handed to PCG64 as a seed sequence would hand them."""

    def __init__(self, words: list[int]) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Any:
        if np.dtype(dtype) != np.uint64 or n_words != len(self.words):
            raise ValueError("a stream's seed gives PCG64's four 64-bit words only")
        return np.array(self.words, dtype=np.uint64)


class Streams:
    """A family of independent numpy generators, one per stream name.

    The generator for ``name`` is ``PCG64`` seeded by
    ``SeedSequence(seed, spawn_key=(key(name),))``, which depends only on the run seed
    and the name, never on the order in which streams are requested. The seed sequence's
    words are computed here (``_SeedMix``), with the run seed's part once per run.
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        self._seed = seed
        self._mix: _SeedMix | None = None  # made at the first stream
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            if self._mix is None:
                self._mix = _SeedMix(int(self._seed))
            words = self._mix.pcg64_words(_stream_key(name))
            # numpy's stubs name SeedSequence only; PCG64 takes any ISeedSequence.
            gen = np.random.Generator(np.random.PCG64(cast(Any, _Derived(words))))
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
