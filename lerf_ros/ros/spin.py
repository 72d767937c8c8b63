"""Spin a node until SIGINT or SIGTERM, then shut it down in an order that cannot abort.

Why a helper: CPython 3.11 ends a daemon thread that is still running when the interpreter
finalizes with ``pthread_exit``. If that thread is inside C++ code with the GIL released (a
torch operator, an rclpy wait), the forced unwind crosses a ``noexcept`` frame and the C++
runtime calls ``std::terminate``: the process dies with SIGABRT and its log ends with
``terminate called without an active exception``. The trainer node has such threads (the
relevancy-image renderer, the engine's workers, the engine builder), so returning from
``main()`` while one of them is busy aborts the process.

:func:`spin_until_shutdown` therefore stops the node's work first (``on_shutdown``: stop
training, write the final checkpoint), waits a bounded time for the remaining daemon threads,
releases the executor, the node and the rclpy context, and only then lets the interpreter
finalize: normally, when no daemon thread is left, or with :func:`os._exit` after flushing the
output when one is still busy (everything worth keeping is on disk by then). A second SIGINT or
SIGTERM during this sequence is logged and otherwise ignored, so it cannot cut the final save
short with a ``KeyboardInterrupt``; SIGKILL stays the way to force an exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable

import rclpy
import rclpy.logging
from rclpy.executors import Executor, ExternalShutdownException
from rclpy.node import Node

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that end a node (Ctrl-C, ``kill``, ``NodeProcess.stop``)."""

THREAD_GRACE_S = 10.0
"""Seconds to wait, after ``on_shutdown``, for daemon threads to finish their current work (a
relevancy image renders in well under a second on the CPU preset)."""

EXECUTOR_TIMEOUT_S = 10.0
"""Seconds to wait for callbacks still running in the executor (a query in progress)."""


def hold_signals(logger=None) -> bool:
    """Make SIGINT and SIGTERM log a line instead of interrupting the caller.

    rclpy's handler raises ``KeyboardInterrupt`` in the main thread on every SIGINT, so a second
    Ctrl-C (or ``NodeProcess.stop`` escalating to SIGTERM) would otherwise abort a final save
    half-way. Only the main thread may set handlers; returns False (and does nothing) elsewhere.
    """
    if threading.current_thread() is not threading.main_thread():
        return False

    def already_stopping(number, _frame) -> None:
        message = f"{signal.Signals(number).name} received while shutting down; still stopping"
        if logger is not None:
            logger.warning(message)
        else:
            print(message, file=sys.stderr, flush=True)

    for number in STOP_SIGNALS:
        signal.signal(number, already_stopping)
    return True


def waiting_in_threading(thread: threading.Thread) -> bool:
    """True if ``thread`` is blocked in a :mod:`threading` wait (an idle worker's
    ``Event.wait``, a ``Condition.wait``): it holds no C++ frame, and if it wakes during
    finalization it exits inside CPython's lock code, which is safe."""
    frame = sys._current_frames().get(thread.ident)
    return frame is not None and frame.f_code.co_filename == threading.__file__


def busy_daemon_threads(ignore: Iterable[threading.Thread] = ()) -> list[threading.Thread]:
    """Daemon threads still doing work, other than the caller's and ``ignore``.

    Only daemon threads matter (the interpreter joins the others before it finalizes), and of
    those only the ones not idle in a :mod:`threading` wait (e.g. tqdm's monitor thread).
    """
    skip = {threading.current_thread(), *ignore}
    return [
        t
        for t in threading.enumerate()
        if t.daemon and t.is_alive() and t not in skip and not waiting_in_threading(t)
    ]


def join_daemon_threads(timeout_s: float) -> list[threading.Thread]:
    """Wait up to ``timeout_s`` in all for the daemon threads to end; returns the ones left.

    Threads started while waiting (work that was being set up when the stop came) are waited
    for too, within the same deadline.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        busy = busy_daemon_threads()
        remaining = deadline - time.monotonic()
        if not busy or remaining <= 0:
            return busy
        busy[0].join(min(remaining, 0.5))


def exit_now(code: int) -> None:
    """End the process with ``code`` without finalizing the interpreter (see the module
    docstring): flush Python's output and logging first, since nothing else will."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream can take nothing more: exit all the same.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def finish(code: int, logger=None, grace_s: float = THREAD_GRACE_S) -> int:
    """Return ``code`` if the interpreter can finalize safely now; otherwise exit at once.

    Waits up to ``grace_s`` for daemon threads; if any is still running after that, finalizing
    could abort (``std::terminate``), so the process ends with :func:`exit_now` instead.
    """
    left = join_daemon_threads(grace_s)
    if not left:
        return code
    names = ", ".join(sorted(t.name for t in left))
    message = f"threads still busy at exit ({names}); ending the process without waiting"
    if logger is not None:
        logger.warning(message)
    else:
        print(message, file=sys.stderr, flush=True)
    exit_now(code)
    return code  # pragma: no cover - exit_now does not return


def _quietly(step: str, action: Callable[[], object], logger) -> bool:
    """Run one shutdown step; an error is logged (one line with its cause) and the remaining
    steps still run. Returns False on error."""
    try:
        action()
    except Exception as error:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        logger.error(f"shutdown: {step} failed: {detail}")
        return False
    return True


def spin_until_shutdown(
    node: Node,
    executor: Executor,
    on_shutdown: Callable[[], object] | None = None,
    *,
    grace_s: float = THREAD_GRACE_S,
    executor_timeout_s: float = EXECUTOR_TIMEOUT_S,
) -> int:
    """Spin ``executor`` (with ``node`` added) until SIGINT, SIGTERM or an rclpy shutdown, then
    shut down in this order and return the exit code (0 unless a step failed):

    1. hold further stop signals (:func:`hold_signals`);
    2. ``on_shutdown()``: stop the node's own work and save what must survive;
    3. shut the executor down (running callbacks get ``executor_timeout_s``);
    4. give daemon threads ``grace_s`` to finish (they may still publish on the node);
    5. destroy the node, shut down the default context (removes rclpy's signal handlers);
    6. hold stop signals again (rclpy's uninstall put back SIGTERM's default action, which
       kills without cleanup) and return, or end the process at once if a daemon thread is
       still busy (:func:`finish`).

    Must be called from the main thread, after ``rclpy.init()`` of the default context.
    """
    # Not the node's own logger: once a signal has shut the context down, a message on it
    # fails to reach /rosout and rcl prints an error line for each one.
    logger = rclpy.logging.get_logger(f"{node.get_name()}.shutdown")
    code = 0
    if node not in executor.get_nodes():
        executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        logger.error(f"executor failed:\n{traceback.format_exc()}")
        code = 1
    # Steps after this point must all run: each one's error is logged and the next goes on.
    hold_signals(logger)
    if on_shutdown is not None and not _quietly("on_shutdown", on_shutdown, logger):
        code = 1
    _quietly("executor", lambda: executor.shutdown(timeout_sec=executor_timeout_s), logger)
    join_daemon_threads(grace_s)
    _quietly("destroy node", node.destroy_node, logger)
    _quietly("rclpy shutdown", rclpy.try_shutdown, logger)
    hold_signals(logger)
    return finish(code, logger, grace_s=0.0)
