"""Where independent pieces of work run: on this machine ("local", the default: one after
another, or where a caller allows it on its cores: the audit's and the Bayes net's fits in forked
processes, privacy's distances in a Background child) or as Ray tasks on a cluster ("ray", issue 22). A foundation module: what maps over
the current engine is the audit's nuisance fits, each split's folds (causal.fairness.decompose),
the fair predictor's synthetic sets and real-row refits (metrics.utility), and the Bayes net's
per-column fits and sampling batches (generators.bayesnet, generators.columns); the CLI
(`--engine ray --ray-address ...`) or the app (RAY_ADDRESS in its environment) choose it.

Each piece is a pure function of (shared, item) with its own seed, so the same seeds give the
same numbers on either engine, bit for bit (tests/test_engine.py). Ray retries a task whose
worker died (MAX_RETRIES); a task that raises is not retried, its error is the result. A Ray
task runs on one CPU, and so does its BLAS (THREADS_ONE), as the local fits do.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Callable, Sequence

from faircause_core.errors import InputError

ENGINES = ("local", "ray")
MAX_RETRIES = 3  # Ray re-runs a task this many times when its worker process dies
ROOT = Path(__file__).resolve().parents[1]
THREADS_ONE = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # one thread each in a Ray worker
MAX_THREADS = 4  # the local engine's threads at most, where a caller allows threads (local_threads)
PROBE_S = 5.0  # a host:port address must accept a connection within this, else one line at once


def _probe(address: str) -> None:
    """A host:port address where nothing accepts a connection within PROBE_S is one InputError
    line now: ray.init retries an unreachable address 20 times, about 40 s each (14 minutes,
    its warnings on stderr), before it fails. Other forms ("auto", "ray://...") are Ray's to judge."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_S).close()
    except OSError as err:
        reason = "no answer within %gs" % PROBE_S if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise InputError(f"cannot reach a Ray cluster at {address!r}: {reason}".splitlines()[0]) from None


def local_threads() -> int:
    """How many pieces the local engine may run at once where a caller allows it: $FAIRCAUSE_THREADS,
    else this process's cores, at most MAX_THREADS (a user's idle 2-core machine ran the
    audit's nuisance fits on one core while the other waited)."""
    raw = os.environ.get("FAIRCAUSE_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise InputError(f"FAIRCAUSE_THREADS must be a whole number >= 1, got {raw!r}")
        return int(raw)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


#: Forked worker processes for the local engine (`processes`): Linux only (macOS forks unsafely
#: once system frameworks are loaded; Windows cannot fork); elsewhere they are threads.
FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


class LocalEngine:
    """Runs every piece here: in order; with threads > 1 up to that many at once on threads of
    this process, for pieces that release the GIL and change nothing shared; or with processes >
    1 on that many forked copies of this process (Linux), for pieces that hold the GIL (the
    audit's small nuisance fits: 1.76x on the demo's audit on 2 cores, where threads were 0.97x).
    Either way the results come back in the order of `items`; `done(k, n)`, where given, is told
    in this thread as each piece ends, and what it raises (a cancelled run) stops the rest."""

    name = "local"
    address = None

    def map(self, fn: Callable, items: Sequence, shared=None, done: Callable | None = None, threads: int = 1,
            processes: int = 1) -> list:
        if processes > 1 and len(items) > 1:
            if FORK:
                return _forked_map(fn, list(items), shared, done, min(processes, len(items)))
            threads = max(threads, processes)
        if threads <= 1 or len(items) <= 1:
            out = []
            for item in items:
                out.append(fn(shared, item))
                if done is not None:
                    done(len(out), len(items))
            return out
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        pool = ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="faircause-local")
        try:
            futures = [pool.submit(fn, shared, item) for item in items]
            pending, ended = set(futures), 0
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    f.result()  # a piece's error is raised here, as the in-order loop would
                    ended += 1
                    if done is not None:
                        done(ended, len(items))
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _die_with_parent(parent: int) -> None:
    """This (forked) process gets SIGKILL when the thread that forked it ends, as when its run's
    process is killed (a cancel past its grace, a server stopped): no fit outlives its run."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the call: nobody will read this child's results
        os._exit(1)


def _fork(body: Callable[[], None]) -> int:
    """Fork: the child runs body() and leaves by os._exit (no atexit handlers, no flushed buffers
    of the parent's), dying with the thread that forked it (_die_with_parent); returns its pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _die_with_parent(parent)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            body()
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    return pid


def _answer(conn, tag, fn: Callable, *args) -> bool:
    """Send (tag, True, fn(*args)), or (tag, False, its error) when it raises; whether it did not."""
    try:
        conn.send((tag, True, fn(*args)))
        return True
    except BaseException as err:  # the piece's error, raised where the answer is read
        try:
            conn.send((tag, False, err))
        except Exception:  # an error that does not pickle: its words
            conn.send((tag, False, RuntimeError(f"{type(err).__name__}: {err}")))
        return False


def _read(conn, pid: int):
    """One answer from a child's pipe: (tag, value), its error raised; a child that died an error."""
    try:
        tag, ok, value = conn.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        raise RuntimeError(f"a worker process (pid {pid}) ended before its pieces did") from None
    if not ok:
        raise value
    return tag, value


def _reap(pid: int) -> None:
    """Kill (ended already, or to be stopped: either way gone) and reap a child."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _forked_map(fn: Callable, items: list, shared, done: Callable | None, workers: int) -> list:
    """fn(shared, item) for every item on `workers` forked children of this process, each handed
    the next item as it answers (two in hand, in the order given: pieces of unlike cost, such as
    an outcome model on one group's rows and a propensity model on all, keep every core busy).
    Nothing of `shared` is copied: a child reads it as the fork left it; the items and results
    go by pipe. The first error (a piece's, or a child that died) is raised here, and then, or
    when `done` raises, every child is killed and reaped: none outlives the call, nor its parent.
    Fork-safe as used: a child never runs Polars (its pool deadlocks after a fork: Anonymeter
    stays in the parent), and scikit-learn's OpenMP runs on one thread in every process here
    (fairness._one_thread, utility's threadpool_limits(1)): GNU OpenMP hangs a forked child whose
    parent ran a parallel region on more threads. Nor does a child run torch, whose own OpenMP
    runs on two threads while the language model trains on a free machine (lm.threads.ThreadGovernor;
    a forked child that ran torch after that hung: tests/test_engine.py's control)."""
    from multiprocessing.connection import Pipe, wait

    children: dict = {}  # our end of each child's pipe -> its pid
    try:
        for _ in range(workers):
            ours, theirs = Pipe()

            def serve(ours=ours, theirs=theirs):
                ours.close()
                while (i := theirs.recv()) is not None and _answer(theirs, i, fn, shared, items[i]):
                    pass

            children[ours] = _fork(serve)
            theirs.close()
        out: list = [None] * len(items)
        given, ended, busy = 0, 0, {conn: 0 for conn in children}

        def give(conn) -> None:
            nonlocal given
            if given < len(items):
                conn.send(given)
                given, busy[conn] = given + 1, busy[conn] + 1

        for _ in range(2):
            for conn in children:
                give(conn)
        while ended < len(items):
            for conn in wait([c for c, n in busy.items() if n]):
                i, out_i = _read(conn, children[conn])
                out[i], ended, busy[conn] = out_i, ended + 1, busy[conn] - 1
                give(conn)
                if done is not None:
                    done(ended, len(items))
        for conn in children:
            conn.send(None)  # nothing more: the child leaves
        return out
    finally:
        for conn, pid in children.items():
            conn.close()
            _reap(pid)


class Background:
    """fn(shared) in a forked child of this process while this one goes on, where `fork` holds
    and the engine can fork (FORK); else computed here when its result is asked. result() waits
    for it (its error raised here); leaving the `with` block kills and reaps the child, so none
    outlives its caller. For work that must not itself fork-share state with this process's
    threads (the privacy step's distances beside Anonymeter's attacks, which use Polars)."""

    def __init__(self, fn: Callable, shared, fork: bool = True):
        self._fn, self._shared, self._pid, self._conn = fn, shared, None, None
        if fork and FORK:
            from multiprocessing.connection import Pipe

            ours, theirs = Pipe(duplex=False)

            def run():
                ours.close()
                _answer(theirs, None, fn, shared)

            self._pid = _fork(run)
            theirs.close()
            self._conn = ours

    def result(self):
        if self._pid is None:
            return self._fn(self._shared)
        try:
            return _read(self._conn, self._pid)[1]
        finally:
            self.close()

    def close(self) -> None:
        if self._pid is not None:
            self._conn.close()
            _reap(self._pid)
            self._pid = None

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RayEngine:
    """Runs each piece as a Ray task: `shared` is put in the object store once, the results
    come back in the order of `items`. address None starts a local Ray (num_cpus of them)."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise InputError("--engine ray needs the ray package (pip install ray==2.60.0)") from None
        self.address = address
        if address:
            _probe(address)
        if not ray.is_initialized():
            # Workers import this package from the checkout and hash as the tests do.
            env = {"PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"),
                   "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
                   **{name: "1" for name in THREADS_ONE}}
            try:
                ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                         log_to_driver=False, configure_logging=False, runtime_env={"env_vars": env})
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise InputError(f"cannot reach a Ray cluster at {address!r}: {err}".splitlines()[0]) from None
        self._ray = ray
        self._tasks: dict = {}  # fn -> its Ray remote function, registered with the cluster once

    def map(self, fn: Callable, items: Sequence, shared=None, done: Callable | None = None, threads: int = 1,
            processes: int = 1) -> list:
        """`threads` and `processes` are the local engine's; each Ray task runs on one CPU of the cluster."""
        ray = self._ray
        task = self._tasks.get(fn)
        if task is None:
            task = self._tasks[fn] = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(fn)
        ref = ray.put(shared)
        refs = [task.remote(ref, item) for item in items]
        pending = list(refs)
        try:
            while done is not None and pending:  # `done(k, n)` as each task ends, in whatever order
                _, pending = ray.wait(pending, num_returns=1)
                done(len(refs) - len(pending), len(refs))
            return ray.get(refs)
        except BaseException:  # `done` raised (a cancelled run) or a task failed: stop the rest
            for r in refs:
                ray.cancel(r)
            raise


_LOCAL = LocalEngine()
_current = threading.local()


def current():
    """The engine work maps over here: the one `use` set in this thread, else local."""
    return getattr(_current, "engine", None) or _LOCAL


@contextlib.contextmanager
def use(engine):
    """Within the block, `current()` in this thread is `engine`."""
    before = getattr(_current, "engine", None)
    _current.engine = engine
    try:
        yield engine
    finally:
        _current.engine = before


def make(name: str | None = None, address: str | None = None, num_cpus: int | None = None):
    """An engine by name ("local" or "ray"); a Ray address from `address` or RAY_ADDRESS (none:
    a local Ray on this machine)."""
    name = name or "local"
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
    if name == "local":
        if address:
            raise InputError("--ray-address needs --engine ray")
        return _LOCAL
    return RayEngine(address or os.environ.get("RAY_ADDRESS") or None, num_cpus=num_cpus)


def from_environment():
    """The app's engine: Ray when RAY_ADDRESS is set in its environment, else local."""
    address = os.environ.get("RAY_ADDRESS")
    return make("ray", address) if address else _LOCAL

