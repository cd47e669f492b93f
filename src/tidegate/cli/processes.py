"""`tidegate serve --workers N`: N server processes sharing one port.

The parent prepares the data directory once (migrations, the master key, the admin key),
then forks the servers and only supervises: it forwards SIGTERM/SIGINT, restarts a server
that died on its own, and exits when all have stopped. Each server binds the port with
SO_REUSEPORT, so the kernel spreads connections over the processes by their addresses
(a shared accept queue lets the least busy process win most of a client's persistent
connections). Each server has PR_SET_PDEATHSIG, so a SIGKILLed parent takes its servers
with it and a restart finds the port free.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 45.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port that other processes of ours may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: a killed parent leaves servers behind
        log.warning("cannot tie server processes to the supervisor's life")


def supervise(count: int, serve: Callable[[int], int], on_exit: Callable[[int], None]) -> int:
    """Run `serve(index)` in `count` forked processes until SIGTERM/SIGINT; 0 if all
    stopped cleanly. `on_exit(pid)` runs for every server that ended."""
    children: dict[int, int] = {}
    stopping = False

    def spawn(index: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _die_with_parent()
                if os.getppid() != parent:  # the parent died before the prctl took effect
                    os._exit(1)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                code = serve(index)
            except BaseException:
                log.exception("server process failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = index

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for index in range(count):
        spawn(index)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = False
    deadline: float | None = None
    while children:
        if stopping and deadline is None:
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:  # polled, so a stop request is acted on without a child exiting
            if deadline is not None and time.monotonic() > deadline:
                for left in children:
                    os.kill(left, signal.SIGKILL)
            time.sleep(0.1)
            continue
        index = children.pop(pid)
        on_exit(pid)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            failed = failed or code != 0
            continue
        log.error(
            "server process exited; restarting it",
            extra={"fields": {"pid": pid, "index": index, "code": code}},
        )
        time.sleep(RESTART_DELAY_SECONDS)
        if not stopping:
            spawn(index)
    return 1 if failed else 0
