"""Batches drawn from one source document at a time: harder in-batch negatives for MNRL at no extra cost.

With random batches, the other 31 passages of a batch come from anywhere in the corpus, and most are easy to
tell apart (another law, another topic). What a domain model still confuses after training are neighbouring
passages of the same document. Filling each batch from one document makes every in-batch negative such a
neighbour (topic-aware sampling, Hofstätter et al. 2021, with the document as the topic).

The guard of sentence-transformers' NoDuplicatesBatchSampler still holds: no text occurs twice in a batch (a
passage that is one row's positive and another row's mined negative would teach the model against its own
answer), and two pairs mined from the same chunk (heading → section and leading sentence → rest) never share a
batch, since each one's positive would be the other's false negative.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from sentence_transformers.sampler import DefaultBatchSampler


def row_keys(row: dict[str, Any], chunk_id: str) -> set[str]:
    """What must not repeat within a batch: every text of the row and the chunk it was mined from."""
    keys = {value for value in row.values() if isinstance(value, str)}
    if chunk_id:
        keys.add(f"\0chunk:{chunk_id}")
    return keys


def document_batches(groups: Sequence[str], keys: Sequence[set[str]], batch_size: int, drop_last: bool,
                     rng: random.Random) -> list[list[int]]:
    """Row indices in batches of `batch_size`, each filled from one group where the group has enough rows.

    Rows are shuffled within their group and the groups are laid end to end in random order; batches are cut
    from that sequence, so a small group or a group's remainder shares a batch with the next group. A row whose
    keys clash with the open batch waits for the next one. The batches come back in random order.
    """
    by_group: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        by_group.setdefault(group, []).append(index)
    order = list(by_group)
    rng.shuffle(order)
    sequence: list[int] = []
    for group in order:
        members = by_group[group]
        rng.shuffle(members)
        sequence.extend(members)
    batches: list[list[int]] = []
    batch: list[int] = []
    taken: set[str] = set()

    def place(candidate: int) -> bool:
        nonlocal batch, taken
        if keys[candidate] & taken:
            return False
        batch.append(candidate)
        taken |= keys[candidate]
        if len(batch) == batch_size:
            batches.append(batch)
            batch, taken = [], set()
        return True

    waiting: list[int] = []
    for index in sequence:
        waiting = [candidate for candidate in [*waiting, index] if not place(candidate)]
    while waiting:  # the clashes left at the end: close the open batch and start another for them
        left = [candidate for candidate in waiting if not place(candidate)]
        if len(left) == len(waiting):
            if batch and not drop_last:
                batches.append(batch)
            batch, taken = [], set()
        waiting = left
    if batch and not drop_last:
        batches.append(batch)
    rng.shuffle(batches)
    return batches


class DocumentBatchSampler(DefaultBatchSampler):
    """The trainer's batch sampler for `batches: document`; reshuffles every epoch (seed + epoch)."""

    def __init__(self, dataset: Any, batch_size: int, drop_last: bool, groups: Sequence[str],
                 chunk_ids: Sequence[str], valid_label_columns: list[str] | None = None,
                 generator: Any = None, seed: int = 0) -> None:
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        if len(groups) != len(dataset) or len(chunk_ids) != len(dataset):
            raise ValueError(f"document batches: {len(groups)} groups and {len(chunk_ids)} chunk ids for "
                             f"{len(dataset)} rows")
        self.groups = list(groups)
        self.keys = [row_keys(row, chunk_id) for row, chunk_id in zip(dataset, chunk_ids, strict=True)]
        self._drawn: tuple[int, list[list[int]]] | None = None

    def _batches(self) -> list[list[int]]:
        if self._drawn is None or self._drawn[0] != self.epoch:
            rng = random.Random(self.seed + self.epoch)
            self._drawn = (self.epoch, document_batches(self.groups, self.keys, self.batch_size, self.drop_last, rng))
        return self._drawn[1]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._batches()

    def __len__(self) -> int:
        return len(self._batches())
