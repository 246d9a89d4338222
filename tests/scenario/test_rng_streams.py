"""The named streams are numpy's ``PCG64(SeedSequence(seed, spawn_key=(key,)))``, word for
word, though ``Streams`` computes the seed sequence's mixing itself (``sim.common.rng``).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.common.rng import Streams, _stream_key

NAMES = ("flight", "loading", "availability:h-01", "availability:C-130 #12", "release", "",
         "rules")
SEEDS = (0, 1, 2, 7, 2**31, 2**32 - 1, 2**32, 2**53 - 1, 2**64 - 1, 2**64 + 5,
         2**96 + 1, 2**128 - 1, 2**128, 2**130 + 11, 2**200 + 3)


def _numpy_stream(seed: int, name: str) -> np.random.Generator:
    seq = np.random.SeedSequence(seed, spawn_key=(_stream_key(name),))
    return np.random.Generator(np.random.PCG64(seq))


@pytest.mark.parametrize("seed", SEEDS)
def test_each_stream_is_numpys_seed_sequence_stream(seed: int) -> None:
    streams = Streams(seed)
    for name in NAMES:
        ours, theirs = streams[name], _numpy_stream(seed, name)
        assert ours.bit_generator.state == theirs.bit_generator.state
        assert ours.random(5).tolist() == theirs.random(5).tolist()


def test_random_seeds_give_numpys_streams_in_any_order() -> None:
    """Seeds as replications make them (53 bits) and larger; streams asked in a random
    order, some twice (the same generator, which goes on from where it was)."""
    rng = np.random.default_rng(20261130)
    seeds = [int(x) for x in rng.integers(0, 2**53, size=40)]
    seeds += [int(x) << 64 | int(y) for x, y in rng.integers(0, 2**62, size=(10, 2))]
    for seed in seeds:
        streams = Streams(seed)
        names = [NAMES[int(i)] for i in rng.integers(0, len(NAMES), size=10)]
        drawn: dict[str, np.random.Generator] = {}
        for name in names:
            reference = drawn.setdefault(name, _numpy_stream(seed, name))
            assert streams[name].integers(0, 2**62, size=3).tolist() == \
                reference.integers(0, 2**62, size=3).tolist()


def test_a_key_is_a_stable_32_bit_number() -> None:
    assert _stream_key("flight") == _stream_key("flight") < 2**32
    assert len({_stream_key(name) for name in NAMES}) == len(NAMES)


def test_a_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1)
