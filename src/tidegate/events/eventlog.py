"""The JSON-lines event log: one envelope per line, each event exactly once.

The dispatcher appends a batch, fsyncs, and only then marks the batch logged in the
outbox. A crash between the two leaves events in the file that the outbox still calls
unlogged; the next append skips any id already in the file's tail (the tail holds at
least the last batch, which is the only one that can be in that state). A crash in the
middle of a write leaves a torn last line, which is cut off before appending.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Sequence
from io import BufferedRandom
from pathlib import Path

_BLOCK = 64 * 1024


class EventLog:
    """Appends event bodies to `path`; only one process appends to a given file."""

    def __init__(self, path: Path, *, tail_lines: int = 100) -> None:
        self.path = path
        self.tail_lines = tail_lines
        # The tail's ids as this object left the file, and the file's size then: while the
        # size is unchanged nothing else wrote it, so the next append need not re-read and
        # re-parse the tail.
        self._tail: deque[str] | None = None
        self._size = -1

    def append(self, events: Sequence[tuple[str, str]]) -> int:
        """Append `(event_id, body)` pairs not already in the tail; fsync; returns lines added."""
        if not events:
            return 0
        if len(events) > self.tail_lines:
            # Dedupe only looks back tail_lines lines, so a batch must fit in it.
            msg = f"batch of {len(events)} exceeds the dedupe window of {self.tail_lines}"
            raise ValueError(msg)
        self._create()
        tail, self._tail = self._tail, None  # an append that fails re-reads the file next time
        with self.path.open("r+b") as fh:
            if tail is None or fh.seek(0, os.SEEK_END) != self._size:
                tail = deque(_repair_and_read_tail(fh, self.tail_lines), maxlen=self.tail_lines)
            seen = set(tail)
            fresh = [(event_id, body) for event_id, body in events if event_id not in seen]
            fh.seek(0, os.SEEK_END)
            if fresh:
                fh.write(b"".join(body.encode() + b"\n" for _, body in fresh))
                fh.flush()
                os.fsync(fh.fileno())
            tail.extend(event_id for event_id, _ in fresh)
            self._size = fh.tell()
        self._tail = tail
        return len(fresh)

    def _create(self) -> None:
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        # The new directory entry must survive a crash too, or the fsynced lines could vanish.
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _repair_and_read_tail(fh: BufferedRandom, lines: int) -> list[str]:
    """Cut a torn last line off the file and return the event ids of the last `lines` lines,
    oldest first."""
    size = fh.seek(0, os.SEEK_END)
    data = b""
    pos = size
    while pos > 0 and data.count(b"\n") <= lines:
        step = min(_BLOCK, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1  # 0 when the whole file is one torn line
        fh.truncate(pos + cut)
        fh.flush()
        os.fsync(fh.fileno())
        data = data[:cut]
    ids: list[str] = []
    for line in data.split(b"\n")[-(lines + 1) :]:
        if not line:
            continue
        try:
            event_id = json.loads(line).get("id")
        except (ValueError, AttributeError):
            continue  # the first line of the window may be a fragment of a longer line
        if isinstance(event_id, str):
            ids.append(event_id)
    return ids
