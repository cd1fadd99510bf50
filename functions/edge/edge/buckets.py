"""GrowthBook bucket hashes for many seeds at once, for one hash value (the edge's hot path).

A visitor's bucket for every rollout, experiment and namespace needs FNV-1a-32 over `seed + value`
(hash v2, then again over the decimal result) or `value + seed` (v1). Done one by one in Python that is
a loop per character per rule. Here every seed is a 64-bit lane of one big integer: FNV's xor and
multiply (by a 25-bit prime, so a lane's product never reaches the next lane) then run once per
character for all lanes together, and a mask keeps lanes whose text is shorter. Results are identical
to `edge.flags.gb_hash`, which stays the reference (the tests and the benchmark compare them).
"""

from __future__ import annotations

import struct
import sys

_OFFSET = 0x811C9DC5
_PRIME = 0x01000193
_LANE_BITS = 64
_DIGITS = 10  # str() of a 32-bit value has at most 10 digits
_POWERS = [10**exponent for exponent in range(_DIGITS)]


def utf16_units(text: str) -> list[int]:
    """JS `charCodeAt` values: UTF-16 code units."""
    if text.isascii():
        return list(text.encode("ascii"))
    raw = text.encode("utf-16-le")
    return [raw[index] | raw[index + 1] << 8 for index in range(0, len(raw), 2)]


def fnv1a32(units: list[int] | bytes, state: int = _OFFSET) -> int:
    for unit in units:
        state = ((state ^ unit) * _PRIME) & 0xFFFFFFFF
    return state


def _repeat(lanes: int) -> int:
    return sum(1 << (_LANE_BITS * index) for index in range(lanes))


def _unpack(vector: int, lanes: int) -> memoryview:
    return memoryview(vector.to_bytes(8 * lanes, sys.byteorder)).cast("Q")


class Bucketer:
    """Slots are (seed, hash version) pairs registered at compile time; `compute(value)` fills them all."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, int], int] = {}
        self._v1: list[tuple[int, str]] = []
        self._v2: list[tuple[int, str]] = []
        self._prepared = False

    def slot(self, seed: str, version: int) -> int | None:
        """The slot for a seed and version; None for an unknown version (the SDK's hash returns null)."""
        if version not in (1, 2):
            return None
        key = (seed, version)
        index = self._index.get(key)
        if index is None:
            index = len(self._index)
            self._index[key] = index
            (self._v1 if version == 1 else self._v2).append((index, seed))
        return index

    def _prepare(self) -> None:
        # Stage 1 runs the value's characters through every v2 seed lane plus one extra lane that
        # starts from the FNV offset: that lane is fnv(value), the shared prefix of every v1 hash.
        lanes2 = len(self._v2)
        self._v2_slots = [index for index, _ in self._v2]
        self._v1_slots = [index for index, _ in self._v1]
        self._rep80 = sum(1 << (_DIGITS * 8 * lane) for lane in range(lanes2))
        self._unpack80 = struct.Struct("<" + "Q2x" * lanes2)
        self._rep_stage1 = _repeat(lanes2 + 1)
        self._mask_stage1 = 0xFFFFFFFF * self._rep_stage1
        self._start_stage1 = sum(
            fnv1a32(utf16_units(seed)) << (_LANE_BITS * lane) for lane, (_, seed) in enumerate(self._v2)
        ) + (_OFFSET << (_LANE_BITS * lanes2))
        self._broadcast = [unit * self._rep_stage1 for unit in range(128)]
        lanes1 = len(self._v1)
        self._rep1 = _repeat(lanes1)
        self._mask1 = 0xFFFFFFFF * self._rep1
        seeds = [utf16_units(seed) for _, seed in self._v1]
        self._steps1: list[tuple[int, int, int]] = []
        for position in range(max(map(len, seeds), default=0)):
            units = 0
            active = 0
            for lane, seed_units in enumerate(seeds):
                if position < len(seed_units):
                    units |= seed_units[position] << (_LANE_BITS * lane)
                    active |= 0xFFFFFFFF << (_LANE_BITS * lane)
            # (units, inactive lanes' mask, active lanes' mask): masks precomputed, not negated per call.
            self._steps1.append((units, self._mask1 ^ active, active))
        self._prepared = True

    def compute(self, value: str) -> list[float | None]:
        """Bucket (0 ≤ n < 1) of `value` for every slot, as `gb_hash(seed, value, version)` would give."""
        if not self._prepared:
            self._prepare()
        out: list[float | None] = [None] * len(self._index)
        lanes2 = len(self._v2_slots)
        vector = self._start_stage1
        mask = self._mask_stage1
        broadcast = self._broadcast
        rep = self._rep_stage1
        if value.isascii():
            for unit in value.encode("ascii"):
                vector = ((vector ^ broadcast[unit]) * _PRIME) & mask
        else:
            for unit in utf16_units(value):
                vector = ((vector ^ (broadcast[unit] if unit < 128 else unit * rep)) * _PRIME) & mask
        stage1 = _unpack(vector, lanes2 + 1)
        if lanes2:
            for index, lane in zip(self._v2_slots, self._stage2(stage1[:lanes2]), strict=True):
                out[index] = lane % 10000 / 10000
        if self._v1_slots:
            vector = stage1[lanes2] * self._rep1
            mask = self._mask1
            for step_units, inactive, active in self._steps1:
                if inactive:
                    vector = (vector & inactive) | (((vector ^ step_units) * _PRIME) & active)
                else:
                    vector = ((vector ^ step_units) * _PRIME) & mask
            for index, lane in zip(self._v1_slots, _unpack(vector, len(self._v1_slots)), strict=True):
                out[index] = lane % 1000 / 1000
        return out

    def _stage2(self, firsts: memoryview) -> tuple[int, ...]:
        """FNV of each lane's decimal text. All texts are zero-padded to 10 digits in one formatting call
        and read as one integer: with 80-bit lanes (10 bytes, one per digit) the digits at a position are
        a shift and a mask away. A lane with fewer digits stays idle (masked) at its leading positions."""
        lanes = len(firsts)
        digits = int.from_bytes((b"%010d" * lanes) % tuple(firsts), "little")
        rep = self._rep80
        bytes_mask = 0xFF * rep
        mask = 0xFFFFFFFF * rep
        vector = _OFFSET * rep
        shortest = min(firsts)
        for position in range(_DIGITS):
            units = (digits >> (8 * position)) & bytes_mask
            threshold = _POWERS[_DIGITS - 1 - position]
            if shortest >= threshold or position == _DIGITS - 1:
                # Every lane has this digit (the last digit always exists, 0 included).
                vector = ((vector ^ units) * _PRIME) & mask
                continue
            active = sum(
                0xFFFFFFFF << (_DIGITS * 8 * lane) for lane, first in enumerate(firsts) if first >= threshold
            )
            vector = (vector & ~active) | (((vector ^ units) * _PRIME) & active)
        return self._unpack80.unpack(vector.to_bytes(_DIGITS * lanes, "little"))
