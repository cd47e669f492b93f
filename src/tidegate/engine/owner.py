"""Who holds a job or a scratch directory: host, pid and the process's start time.

A pid alone is reused after a restart (containers restart as pid 1 every time), so the
start time, read from /proc, tells a dead predecessor from the live process that got its
pid. Identities look like `host:pid:start`; a job's lease owner appends the thread name.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None when there is no such pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True, slots=True)
class ProcessId:
    host: str
    pid: int
    start: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.start}"

    def is_dead_here(self) -> bool:
        """True when this identity is a process of this host that no longer runs.

        A process of another host is never judged from here: only its lease can say.
        """
        if self.host != socket.gethostname():
            return False
        now = start_time(self.pid)
        if now is None:
            return True
        if not now or not self.start:
            return False  # no /proc to compare: believe it alive, the lease decides
        return now != self.start


def current() -> ProcessId:
    pid = os.getpid()
    return ProcessId(socket.gethostname(), pid, start_time(pid) or "")


def parse(text: str) -> ProcessId | None:
    """The identity at the start of `text` (`host:pid:start[:...]`), None if malformed."""
    parts = text.split(":")
    if len(parts) < 3 or not parts[1].isascii() or not parts[1].isdigit():
        return None
    return ProcessId(parts[0], int(parts[1]), parts[2])
