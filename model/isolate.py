"""Solver isolation: HiGHS runs in a forked child, so that a crash of the solver is a reported failure.

HiGHS is C++; on some inputs it has died by SIGSEGV or SIGABRT, taking the Python process with it,
without a word. :func:`run_isolated` runs a function in a ``fork()``-ed child that sends its
result back over a pipe (pickled). When the child dies by a signal, or exits without a result,
the parent raises :class:`model.errors.ModelError` ("the solver process crashed ..."): the
command line prints it, exits with status 1 and writes nothing.

* Exceptions travel back: an :class:`InputError` keeps its problems, a ``KeyboardInterrupt`` in the
  child (Ctrl-C reaches the whole process group) is re-raised in the parent.
* A signal to the parent alone (SIGTERM) interrupts the wait; the child is killed and reaped.
* The child exits with its parent (``PR_SET_PDEATHSIG`` on Linux), so a ``kill -9`` of the parent
  never leaves a solver running.
* Where ``fork`` does not exist (Windows) the function simply runs in this process.

The cost is one ``fork`` of the running interpreter (copy-on-write) plus pickling the result
tables: measured in docs/reliability.md ("Solver crashes").
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Any, Callable

from .errors import InputError, ModelError

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except Exception:  # pragma: no cover - no libc / no prctl
        return False


def reset_solver_threads() -> None:
    """In a forked child: forget HiGHS's thread pool inherited from the parent (its threads were not
    copied by ``fork``), so that the child's first solve starts a fresh one instead of waiting for
    threads that do not exist. A no-op when the parent never loaded HiGHS."""
    if "highspy" not in sys.modules:
        return
    from .solve import reset_thread_scheduler  # the solver wing owns every HiGHS call

    try:
        reset_thread_scheduler()  # non-blocking: never joins the (absent) workers
    except Exception:  # pragma: no cover
        pass


def _quiet_faulthandler() -> None:
    """A crash of the child is reported by the parent in one line; no C-level traceback dump."""
    try:
        import faulthandler

        faulthandler.disable()
    except Exception:  # pragma: no cover
        pass


def available() -> bool:
    return hasattr(os, "fork") and os.environ.get("BATTERY_PLAN_NO_FORK", "") != "1"


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def run_isolated(fn: Callable[..., Any], *args, what: str = "HiGHS", **kwargs) -> Any:
    """``fn(*args, **kwargs)`` in a forked child; its return value (pickled) or its exception."""
    if not available():
        return fn(*args, **kwargs)
    parent = os.getpid()
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # ---- the child: compute, send, leave without running the parent's cleanup
        status = 0
        try:
            os.close(r)
            set_parent_death_signal()
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            reset_solver_threads()
            _quiet_faulthandler()
            try:
                payload = ("ok", fn(*args, **kwargs))
            except InputError as exc:
                payload = ("input", exc.problems)
            except KeyboardInterrupt:
                payload = ("interrupt", None)
            except BaseException as exc:  # noqa: BLE001 - sent to the parent as it is
                payload = ("exc", exc)
            try:
                data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an exception (or result) that does not pickle
                data = pickle.dumps(("error", f"{type(payload[1]).__name__}: {payload[1]}"[:2000]
                                     if payload[0] == "exc" else f"result could not be sent back: {exc}"))
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(status)
    # ---- the parent
    os.close(w)
    try:
        with os.fdopen(r, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C / SIGTERM while waiting: the child goes too
        _kill(pid)
        raise
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        raise ModelError(f"{what} crashed: the solver process was killed by {_signal_name(sig)} "
                         f"({'out of memory?' if sig == signal.SIGKILL else 'a bug in the solver, triggered by this case'}); "
                         "no plan could be computed. Try other solver settings or report the case")
    if not data:
        raise ModelError(f"{what} ended without a result (exit status {os.WEXITSTATUS(status)}); "
                         "no plan could be computed")
    try:
        kind, value = pickle.loads(data)
    except Exception as exc:  # an exception class that cannot be rebuilt here
        raise ModelError(f"{what} failed and its error could not be read back ({type(exc).__name__})")
    if kind == "ok":
        return value
    if kind == "input":
        raise InputError(value)
    if kind == "interrupt":
        raise KeyboardInterrupt("interrupted in the solver process")
    if kind == "exc":
        raise value
    raise RuntimeError(value)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


# --------------------------------------------------------------------------- a long-lived solver child
def _write_msg(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_msg(fd: int) -> Any:
    """The next message, or raise EOFError when the other side is gone."""
    def exact(n: int) -> bytes:
        chunks, left = [], n
        while left:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                raise EOFError
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)
    return pickle.loads(exact(int.from_bytes(exact(8), "big")))


class ChildWorker:
    """A forked child that builds ``make()`` once and then answers ``call(arg)`` with ``obj(arg)``.

    Used by ``sweep --workers 0``: one solver process for all cases (the base model is built once),
    yet a solver crash costs one case, not the sweep. ``call`` returns ``(True, result)`` or
    ``(False, reason)`` when the child died (the worker must then be closed and replaced).
    """

    def __init__(self, make: Callable[[], Callable[[Any], Any]]):
        parent = os.getpid()
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                os.close(req_w)
                os.close(res_r)
                set_parent_death_signal()
                if os.getppid() != parent:
                    os._exit(1)
                reset_solver_threads()
                _quiet_faulthandler()
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                except ValueError:  # pragma: no cover
                    pass
                fn = make()
                while True:
                    try:
                        arg = _read_msg(req_r)
                    except EOFError:
                        break
                    _write_msg(res_w, fn(arg))
            except BaseException:  # noqa: BLE001
                status = 1
            finally:
                os._exit(status)
        os.close(req_r)
        os.close(res_w)
        self.pid, self._req, self._res = pid, req_w, res_r
        self.closed = False

    def call(self, arg: Any) -> tuple[bool, Any]:
        try:
            _write_msg(self._req, arg)
            return True, _read_msg(self._res)
        except (EOFError, BrokenPipeError):
            return False, self._death()

    def _death(self) -> str:
        self._close_fds()
        try:
            _, status = os.waitpid(self.pid, 0)
        except OSError:
            return "the solver process ended"
        self.closed = True
        if os.WIFSIGNALED(status):
            return f"the solver process was killed by {_signal_name(os.WTERMSIG(status))} while solving this case"
        return f"the solver process ended (exit status {os.WEXITSTATUS(status)}) while solving this case"

    def _close_fds(self) -> None:
        for fd in (self._req, self._res):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self, kill: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self._close_fds()  # EOF on the request pipe: the child leaves its loop
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass
