"""Process-wide stop flag, set by the CLI's SIGINT/SIGTERM handler (kept import-light on purpose).

A HiGHS solve cut short by a signal can end with HiGHS's "error" status; the flag lets the solve
step report it as an interruption instead of a solver failure.
"""
_requested = False


def request_stop() -> None:
    global _requested
    _requested = True


def stop_requested() -> bool:
    return _requested
