"""The layout's worker processes: one per core, kept for the whole layout stage.

WeasyPrint runs in worker processes forked from a forkserver that has WeasyPrint imported and its
fonts, hyphenation and PDF writing readied (``warm.py``); ``prestart()`` starts that forkserver
early, while the build still reads the chapters and processes images. A worker lays out piece
after piece (the biggest first, so no core waits for a long chapter at the end) and is replaced
once it has grown past ``RETIRE_MIB``, since WeasyPrint does not give memory back to the OS. Workers
die with the build (the parent-death signal and a watchdog, ``budget.watch_from_worker``), end
themselves at the build's time budget, leave Ctrl-C to the parent, and are killed at once when
the build fails. ``PUBPIPE_PDF_INPROCESS=1`` lays out in this process (debugging, platforms
without fork).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .. import budget
from ..util import Draining

# (the asset store's image prefetching runs in these workers too: ``Background``)
PRELOAD = ["weasyprint", "pubpipe.layout.render", "pubpipe.layout.warm",
           "pubpipe.assets.variants"]
RETIRE_MIB = 320  # a worker this large ends after its piece and a fresh one takes its place
# a worker holding a piece that has used (almost) no CPU for this long, and runs no program, is
# stuck (a lock in a C library, a lost message): it is killed and its piece tried once more,
# instead of the build waiting for its whole time budget
STALL_SECONDS = 60.0
STALL_CPU = 0.05  # seconds of CPU that count as work (its watchdog thread uses far less)
_HELD = ("SIGALRM", "SIGTERM", "SIGINT")
# Background workers (images processed while the chapters are read) yield to the build's own
# process: reading and transforming is one chain of work that the layout waits for, while the
# photos fill whatever CPU is left (on two cores the reader, the forkserver's warm-up and two
# photo workers would otherwise each get half a core, and the chain would finish last)
BACKGROUND_NICE = 5


def in_process() -> bool:
    return bool(os.environ.get("PUBPIPE_PDF_INPROCESS")) or os.name != "posix"


def _context():
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def cores() -> int:
    """The cores this process may run on (one worker each)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def prestart() -> None:
    """Start the forkserver now, so WeasyPrint is imported and warmed (about a second of one core)
    while this process goes on with other work; the workers are forked from it when needed."""
    if in_process():
        return
    try:
        import multiprocessing.forkserver

        _context()
        # Ctrl-C ignored while the forkserver is started (a few milliseconds): it keeps that
        # through exec, so a Ctrl-C to the terminal's process group during its preload
        # (importing and warming WeasyPrint, a second or more, while this process reads) prints
        # no KeyboardInterrupt traceback from it (multiprocessing ignores Ctrl-C there only
        # after the preload); its workers ignore Ctrl-C anyway (``_serve``)
        with _sigint_ignored():
            multiprocessing.forkserver.ensure_running()
    except (OSError, RuntimeError, ValueError):
        pass  # the workers start it themselves, or the layout runs in this process


@contextlib.contextmanager
def _sigint_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _budget_held():
    """Hold the build's time-budget signal (and SIGTERM, SIGINT) while a worker process is
    being started.

    Starting one is a handshake with the forkserver; the budget's exception in the middle of it
    leaves the forkserver with half a request, and it prints a traceback after the build ended.
    The signal is delivered as soon as the worker exists, and the caller then kills it.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {getattr(signal, name) for name in _HELD}  # the budget, kill, Ctrl+C
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _resident_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _serve(conn, build_pid: int, deadline: float) -> None:
    """A worker: lay out what the parent sends until told to stop or grown too large."""
    if hasattr(signal, "pthread_sigmask"):  # a mask held by whoever started the forkserver
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {getattr(signal, n) for n in _HELD})
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # a worker forked from the build itself (``Background``) has the build's handlers: a SIGTERM
    # to the whole group, or the budget's alarm, must end it quietly, not raise in it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    budget.watch_from_worker(build_pid, deadline)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, arg, last = message
        try:
            reply: tuple = ("ok", fn(arg))
        except Exception as e:  # noqa: BLE001 - handed to the parent, which raises it
            reply = ("error", _portable(e))
        retire = last or _resident_mib() > RETIRE_MIB
        try:
            conn.send((*reply, retire))
        except Exception as e:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("error", RuntimeError(f"layout result not sent: {e}"), True))
            return
        if retire:
            return


def _portable(e: Exception) -> Exception:
    """The exception as the parent can unpickle it (else a RuntimeError with its text)."""
    import pickle

    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:  # noqa: BLE001
        text = "".join(traceback.format_exception_only(type(e), e)).strip()
        return RuntimeError(text)


class WorkerDied(RuntimeError):
    """A worker ended without an answer (killed, out of memory, a crash in a C library)."""


class Deferred:
    """A job made only when it is started: make(results) gets the results of the jobs before
    and beside it so far (None where a job is not done)."""

    def __init__(self, make: Callable[[list[Any]], Any]):
        self.make = make


class _NoWorker(Exception):
    """No worker process could be started here."""


def _cpu_and_running(pid: int) -> tuple[float, bool] | None:
    """CPU seconds a process has used, and whether it is at work now (a thread of it runnable,
    only waiting for a core on a loaded machine, or a program it started still running);
    None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    running = False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                running |= f.read().rsplit(")", 1)[1].split()[0] == "R"
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            running |= bool(f.read().split())
    except (OSError, IndexError):
        pass
    return cpu, running


class _Worker:
    def __init__(self, ctx, deadline: float, nice: int = 0):
        try:
            # the forkserver is started (when it is not running) before signals are held: it and
            # every worker forked from it would keep the mask
            import multiprocessing.forkserver

            if ctx.get_start_method() == "forkserver":
                multiprocessing.forkserver.ensure_running()
            parent, child = ctx.Pipe()
            self.conn = parent
            self.proc = ctx.Process(target=_serve, args=(child, os.getpid(), deadline),
                                    daemon=True, name="pubpipe-layout")
            with _budget_held():
                self.proc.start()
        except (OSError, RuntimeError, ValueError) as e:
            raise _NoWorker(str(e)) from e
        child.close()
        if nice and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):  # a lower priority than this process's
                os.setpriority(os.PRIO_PROCESS, self.proc.pid,
                               os.getpriority(os.PRIO_PROCESS, 0) + nice)

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.proc.kill()
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.proc.join(timeout=5)


class _Progress:
    """When each busy worker last showed work (CPU used, or a program it runs)."""

    def __init__(self):
        self.marks: dict[_Worker, tuple[float, float]] = {}

    def started(self, w: _Worker) -> None:
        got = _cpu_and_running(w.proc.pid)
        self.marks[w] = (got[0] if got else 0.0, time.monotonic())

    def stuck(self, w: _Worker) -> bool:
        got = _cpu_and_running(w.proc.pid)
        if got is None:
            return False
        cpu, running = got
        now = time.monotonic()
        mark_cpu, mark_time = self.marks.get(w, (cpu, now))
        if running or cpu - mark_cpu >= STALL_CPU or w not in self.marks:
            self.marks[w] = (cpu, now)
            return False
        return now - mark_time >= STALL_SECONDS


class Pool:
    """Worker processes that lay out jobs in parallel, fed as they finish."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self.deadline = budget.deadline()
        self.ctx = _context()
        self.idle: list[_Worker] = []

    def _worker(self) -> _Worker:
        return self.idle.pop() if self.idle else _Worker(self.ctx, self.deadline)

    def run(self, fn: Callable[[Any], Any], jobs: Sequence[Any],
            done: Callable[[], None] = lambda: None, cost: Callable[[Any], float] | None = None,
            fresh: bool = False) -> list[Any]:
        """fn(job) for every job, in worker processes; the results in the jobs' order.

        cost: the bigger, the earlier a job is started. fresh: every job in a fresh worker (which
        ends after it). A worker that dies is replaced and its job tried once more. A ``Deferred``
        job is made when it is started, from the results so far (jobs are then started in order).
        """
        from multiprocessing.connection import wait

        order = list(range(len(jobs)))
        if cost and not any(isinstance(j, Deferred) for j in jobs):
            order.sort(key=lambda i: -cost(jobs[i]))
        jobs = list(jobs)
        results: list[Any] = [None] * len(jobs)
        busy: dict[_Worker, int] = {}
        tries = [0] * len(jobs)
        progress = _Progress()

        def lost(w: _Worker, why: str) -> None:
            """w ended (or is stuck) without an answer: its job once more, in a new worker."""
            i = busy.pop(w)
            w.kill()
            tries[i] += 1
            if tries[i] > 1:
                raise WorkerDied(f"a layout worker {why}")
            order.insert(0, i)

        try:
            while order or busy:
                while order and len(busy) < self.size:
                    i = order.pop(0)
                    if isinstance(jobs[i], Deferred):
                        jobs[i] = jobs[i].make(results)
                    w = self._worker()
                    try:
                        w.conn.send((fn, jobs[i], fresh))
                    except (OSError, ValueError):  # it has just died: start another
                        w.kill()
                        order.insert(0, i)
                        continue
                    busy[w] = i
                    progress.started(w)
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                                 timeout=min(5.0, STALL_SECONDS / 4)))
                if not ready:
                    for w in [w for w in busy if progress.stuck(w)]:
                        lost(w, f"was stuck (no CPU used for {STALL_SECONDS:g} s)")
                    continue
                for w in [w for w in busy if w.conn in ready or w.proc.sentinel in ready]:
                    reply = _reply(w)
                    if reply is None:
                        lost(w, f"died (exit code {w.proc.exitcode})")
                        continue
                    status, value, retire = reply
                    i = busy.pop(w)
                    if retire:
                        w.close()
                    else:
                        self.idle.append(w)
                    if status == "error":
                        raise value
                    results[i] = value
                    done()
        except BaseException:
            # the budget ran out, Ctrl-C, an error: end the pieces being laid out now, or the
            # interpreter's exit waits for them (minutes) after the error was reported
            for w in busy:
                w.kill()
            self.stop()
            raise
        return results

    def stop(self) -> None:
        """Idle workers told to end, and waited for."""
        workers, self.idle = self.idle, []
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(None)
        for w in workers:
            w.close()


_POOL: Pool | None = None


def run(fn: Callable[[Any], Any], jobs: Sequence[Any], done: Callable[[], None] = lambda: None,
        cost: Callable[[Any], float] | None = None, fresh: bool = False) -> list[Any]:
    """fn(job) for every job: in the layout's worker processes (kept until ``stop()``), or in
    this process (PUBPIPE_PDF_INPROCESS, or when no worker can be started)."""
    global _POOL
    if not in_process() and jobs:
        try:
            if _POOL is None:
                _POOL = Pool(cores())
            return _POOL.run(fn, jobs, done, cost, fresh)
        except _NoWorker:
            _POOL = None  # no process can be started here: lay out in this process
    out: list[Any] = [None] * len(jobs)
    for i, job in enumerate(jobs):
        out[i] = fn(job.make(out) if isinstance(job, Deferred) else job)
        done()
    return out


def _reply(w: _Worker) -> tuple[str, Any, bool] | None:
    """What a worker whose connection (or process) is ready sent back: (status, value, retire),
    or None when it died without a reply (it is killed)."""
    try:
        if not w.conn.poll():
            raise EOFError
        return w.conn.recv()
    except (EOFError, OSError):
        w.kill()
        return None


def stop() -> None:
    """End the workers (at the end of the layout stage: their memory goes back to the OS)."""
    global _POOL
    if _POOL is not None:
        pool, _POOL = _POOL, None
        pool.stop()


def _single_threaded() -> bool:
    """Whether this process runs one thread, counting those no Python code started (a library's
    own threads) where /proc tells."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


class Background(Draining):
    """Jobs run in worker processes from the layout's forkserver while this process does other
    work (a ``Runner`` for the asset store's prefetching). A thread here starts the workers (the
    first waits for the forkserver's warm-up, which the caller must not) and hands each result,
    or the exception its job raised, to the job's callback, in that thread. A worker that dies or
    is stuck fails its job (``WorkerDied``); when no worker can be started, every job fails so."""

    def __init__(self, size: int | None = None, fork_now: bool = False):
        """fork_now: start the workers at once by forking this process, when it runs a single
        thread (so that no lock another thread holds is copied locked): they can work at once,
        while the forkserver still readies WeasyPrint (a second before it forks anything).
        Otherwise, and for any worker that replaces one, they come from the forkserver."""
        self.size = max(1, size or cores())
        self._todo: collections.deque[tuple[Callable, Any, Callable]] = collections.deque()
        super().__init__()  # its _dropping: cancel() or the end, everything stops at once
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None  # a pipe that interrupts the thread's wait
        self._forked: list[_Worker] = []
        if fork_now and _single_threaded() and hasattr(os, "fork"):
            import multiprocessing

            try:
                for _ in range(self.size):
                    self._forked.append(_Worker(multiprocessing.get_context("fork"),
                                                budget.deadline(), BACKGROUND_NICE))
            except _NoWorker:
                pass

    def submit(self, fn: Callable[[Any], Any], job: Any,
               done: Callable[[Any], None]) -> None:
        with self._changed:
            self._todo.append((fn, job, done))
            self._open += 1
            if self._thread is None:
                self._dropping = False
                self._wake = os.pipe()
                self._thread = threading.Thread(target=self._feed, args=(self._wake[0],),
                                                name="pubpipe-background", daemon=True)
                self._thread.start()
            else:
                self._poke()

    def cancel(self) -> None:
        with self._changed:
            self._dropping = True
            self._todo.clear()
        self._end()

    def _poke(self) -> None:
        if self._wake is not None:
            with contextlib.suppress(OSError):
                os.write(self._wake[1], b"x")

    def _end(self) -> None:
        with self._changed:
            thread, self._thread = self._thread, None
            self._dropping = True
            self._poke()
        if thread is not None:
            thread.join()
        forked, self._forked = self._forked, []
        for w in forked:  # started, never given a job
            w.kill()
        with self._changed:
            if self._wake is not None:
                for fd in self._wake:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                self._wake = None
            self._open = 0
            self._todo.clear()

    def _feed(self, wake: int) -> None:
        from multiprocessing.connection import wait

        ctx = _context()
        deadline = budget.deadline()
        idle, self._forked = self._forked, []
        busy: dict[_Worker, Callable[[Any], None]] = {}
        progress = _Progress()
        try:
            while True:
                with self._changed:
                    if self._dropping:
                        return
                    start = []
                    while self._todo and len(busy) + len(start) < self.size:
                        start.append(self._todo.popleft())
                for fn, job, done in start:
                    try:
                        w = idle.pop() if idle else _Worker(ctx, deadline, BACKGROUND_NICE)
                    except _NoWorker as e:
                        self._finished(done, WorkerDied(f"no worker process: {e}"))
                        continue
                    try:
                        w.conn.send((fn, job, False))
                    except (OSError, ValueError):
                        w.kill()
                        self._finished(done, WorkerDied("a worker died before its job"))
                        continue
                    busy[w] = done
                    progress.started(w)
                if self._dropping:
                    return
                ready = set(wait([wake] + [w.conn for w in busy] + [w.proc.sentinel for w in busy],
                                 timeout=min(5.0, STALL_SECONDS / 4)))
                if wake in ready:
                    with contextlib.suppress(OSError):
                        os.read(wake, 4096)
                for w in list(busy):
                    if w.conn in ready or w.proc.sentinel in ready:
                        done = busy.pop(w)
                        reply = _reply(w)
                        if reply is None:
                            self._finished(done, WorkerDied(
                                f"a worker died (exit code {w.proc.exitcode})"))
                            continue
                        status, value, retire = reply
                        if retire:
                            w.close()
                        else:
                            idle.append(w)
                        self._finished(done, value)
                    elif not ready and progress.stuck(w):
                        done = busy.pop(w)
                        w.kill()
                        self._finished(done, WorkerDied(
                            f"a worker was stuck (no CPU used for {STALL_SECONDS:g} s)"))
        finally:
            for w in busy:
                w.kill()
            for w in idle:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
            for w in idle:
                w.close()
