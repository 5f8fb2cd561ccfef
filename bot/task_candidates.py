"""The speaker's tasks as resolution candidates, indexed once and reused until they change.

Building the word index costs ~4 µs a task, so a person with 10,000 tasks would pay ~40 ms on
every message; the index is kept per owner and rebuilt only when one of their tasks has a
new event (one indexed `max(seq)` query tells).
"""

from __future__ import annotations

from collections import OrderedDict

from engine.service import TaskService
from intents import Candidate, CandidateIndex

#: Most recently updated tasks a chat considers; older ones are reachable by id.
MAX_CANDIDATES = 10_000
#: Owners whose index is kept in memory.
MAX_OWNERS = 1_000


class TaskCandidates:
    def __init__(self, service: TaskService, limit: int = MAX_CANDIDATES) -> None:
        self._service = service
        self._limit = limit
        self._indexes: OrderedDict[int, tuple[int, CandidateIndex]] = OrderedDict()

    async def index(self, owner_id: int) -> CandidateIndex:
        """The owner's candidates as of now."""
        cached = self._indexes.get(owner_id)
        if cached is not None and cached[0] == await self._service.owner_last_seq(owner_id):
            self._indexes.move_to_end(owner_id)
            return cached[1]
        seq, rows = await self._service.task_summaries(owner_id, self._limit)
        index = CandidateIndex.build(Candidate(*row) for row in rows)
        self._indexes[owner_id] = (seq, index)
        self._indexes.move_to_end(owner_id)
        while len(self._indexes) > MAX_OWNERS:
            self._indexes.popitem(last=False)
        return index
