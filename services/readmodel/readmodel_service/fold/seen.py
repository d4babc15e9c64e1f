"""Which event ids a generation has folded, asked in memory: a relay's resend of an event, at a
new offset, is recognised and skipped."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from relocation_shared.mongo import Doc


def id_hash(event_id: str) -> int:
    """64 bits of an event id: for a canonical UUID (the platform's ids are UUIDv7) its last 16
    hex digits, random in a v7 or v4; for anything else a BLAKE2b digest. A match is only a
    suspicion, confirmed against the stored ids, so the hash needs to spread, not to be secret."""
    if len(event_id) == 36 and event_id[23] == "-":
        try:
            return int(event_id[19:23] + event_id[24:], 16)
        except ValueError:
            pass
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


class SeenFilter:
    """Which event ids one generation has folded, asked without a database round trip for
    each: an 8-byte hash of every id (numpy arrays, 12 bytes an id), each pointing to the seen
    document that holds the id. Only a hash that matches (a real duplicate, or a collision) is
    confirmed against that document, so the answer is exact.

    A seen document holds one partition's fresh ids of one batch. `covered` tells, per
    partition, up to which offset the filter knows them: when the offsets stored with the views
    are further (another instance folded that partition since), the documents in between are
    read first. A duplicate is looked for on every partition the filter has loaded: all of them
    at start, and since then the partitions this instance folds.

    New documents wait in `pending` (one array each) and are merged into the sorted arrays
    once they hold MERGE_AT ids, so adding a batch costs no Python work per id."""

    MERGE_AT = 200_000

    def __init__(self) -> None:
        self.docs: list[str] = []
        self.known: set[str] = set()
        self.hashes = np.empty(0, dtype=np.uint64)
        self.where = np.empty(0, dtype=np.uint32)
        self.pending: list[tuple[np.ndarray[Any, np.dtype[np.uint64]], int]] = []
        self.pending_ids = 0
        self.covered: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.hashes) + self.pending_ids

    def add(self, doc: Doc) -> None:
        """A seen document (its `_id`, `tp`, `next` and `h`, the packed hashes) now committed."""
        if doc["_id"] in self.known:
            return
        self.known.add(doc["_id"])
        self.docs.append(doc["_id"])
        hashes = np.frombuffer(doc["h"], dtype="<u8").astype(np.uint64)
        self.pending.append((hashes, len(self.docs) - 1))
        self.pending_ids += len(hashes)
        self.covered[doc["tp"]] = max(self.covered.get(doc["tp"], 0), doc["next"])
        if self.pending_ids >= self.MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        hashes = np.concatenate([self.hashes, *(h for h, _ in self.pending)])
        where = np.concatenate([self.where, *(np.full(len(h), index, dtype=np.uint32) for h, index in self.pending)])
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.where = hashes[order], where[order]
        self.pending, self.pending_ids = [], 0

    def maybe(self, hashes: dict[str, int]) -> dict[str, list[str]]:
        """Of these ids (id → hash), the ones whose hash the filter holds, with the documents to
        look in."""
        out: dict[str, list[str]] = {}
        if not hashes:
            return out
        ids = list(hashes)
        wanted = np.fromiter(hashes.values(), np.uint64, len(ids))
        left = np.searchsorted(self.hashes, wanted, side="left")
        right = np.searchsorted(self.hashes, wanted, side="right")
        for k in np.nonzero(right > left)[0].tolist():
            out[ids[k]] = [self.docs[i] for i in self.where[left[k] : right[k]].tolist()]
        if self.pending:  # each pending chunk looked up in the sorted batch, not the other way round
            order = np.argsort(wanted, kind="stable")
            ranked = wanted[order]
            for chunk, index in self.pending:
                lo = np.searchsorted(ranked, chunk, side="left")
                hi = np.searchsorted(ranked, chunk, side="right")
                for j in np.nonzero(hi > lo)[0].tolist():
                    for k in order[lo[j] : hi[j]].tolist():
                        out.setdefault(ids[k], []).append(self.docs[index])
        return out
