"""Process hygiene shared by the test replayers: they are children of Swift test processes and of
pytest, and must neither ignore SIGTERM nor outlive the process that started them."""
import asyncio
import os
import signal

# The process that started this one, read at import (first thing): exit_with_parent watches it.
PARENT = os.getppid()


def unblock_stop_signals():
    """A child of a Swift test process inherits a signal mask that blocks SIGTERM: unblock it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


async def exit_with_parent(stop, parent=PARENT):
    """A test runner killed mid-test must not leave replayers behind. Not PR_SET_PDEATHSIG: it fires
    when the *thread* that started this process ends, and a Swift test starts it from a pool thread
    that may be retired while the test still runs. The parent process is watched instead."""
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
            return
        await asyncio.sleep(0.5)
