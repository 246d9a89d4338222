"""Whether a process is still running, for writers and workers that watch another process."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (killed, not yet reaped) counts as gone.

    ``kill(pid, 0)`` alone calls a zombie alive, and a SIGKILLed parent stays a
    zombie until its own parent reaps it, so on Linux the state in ``/proc`` is
    read as well.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # no /proc (not Linux): kill(pid, 0) is all there is
