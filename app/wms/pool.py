"""A pool of render processes: Mapnik renders (WMS maps and legends, report maps) run where
they can be stopped.

Mapnik's C++ cannot be interrupted inside a thread: a render that never ends kept its thread,
and enough of them stopped the whole service. Each render therefore runs in one of
`wms_render_processes` worker processes (app.wms.worker). A request waits at most
`wms_queue_timeout_s` for a free worker, else RendererBusyError; a render that runs past
`wms_render_timeout_s` is killed with its process (RenderTimeoutError) and a new process
takes its place. The answer is a PNG copied over a pipe.

A worker is a new interpreter running app/wms/worker.py, as multiprocessing's 'spawn'
starts one (not 'fork': this process has threads and a database pool whose locks a fork
would copy in whatever state they are in), talking over a multiprocessing Connection. It is
not started through multiprocessing itself because 'spawn' and 'forkserver' import the
service's main script (app.cli, the whole application) in the new process, where a
renderer needs only Mapnik, far lighter to start. It inherits this process's environment,
with the PROJ and GDAL data folders app.wms set.

The pool starts with the first render, and the app's lifespan stops it.
"""

import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from app.settings import Settings

logger = logging.getLogger(__name__)

# Run as a script, not as app.wms.worker: importing the package would load rasterio too.
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# How often a query of a killed worker checks that its client is still there (PostgreSQL 14+,
# client_connection_check_interval), so PostgreSQL stops it rather than finishing it.
CLIENT_CHECK_MS = 1000
JOIN_TIMEOUT_S = 2.0
# A new render process says READY once Mapnik is loaded; one that has not after this long is
# killed, and another started after START_RETRY_S.
READY = "ready"
START_TIMEOUT_S = 60.0
START_RETRY_S = 5.0
CLOSED_POLL_S = 0.2


class RenderError(Exception):
    """A render that could not be done; the message is safe to show to a client."""


class RendererBusyError(RenderError):
    """No render process became free within the queue time."""


class RenderTimeoutError(RenderError):
    """The render ran past its time limit; its process was killed."""


class RenderFailedError(RenderError):
    """The render process reported an error (`kind` is its exception class) or stopped."""

    def __init__(self, message: str, kind: str, detail: str):
        super().__init__(message)
        self.kind, self.detail = kind, detail


class PoolClosedError(RenderError):
    """The service is stopping: renders are no longer taken."""


@dataclass(frozen=True)
class RenderJob:
    """A Mapnik map definition and the image to draw from it."""

    xml: str
    bbox: tuple[float, float, float, float]
    width: int
    height: int
    image_format: str


@dataclass(eq=False)
class _Renderer:
    process: subprocess.Popen
    connection: Connection


class RenderPool:
    """A fixed number of render processes; one render at a time in each."""

    def __init__(self, processes: int, statement_timeout_ms: int):
        self._pgoptions = (
            f"-c statement_timeout={statement_timeout_ms} "
            f"-c client_connection_check_interval={CLIENT_CHECK_MS}"
        )
        self._idle: queue.Queue[_Renderer | None] = queue.Queue()
        self._all: set[_Renderer] = set()
        self._lock = threading.Lock()
        self.closed = False
        self._stopped = False
        for _ in range(processes):
            self._start()

    def pids(self) -> list[int]:
        """Return the process ids of the render processes (idle and busy)."""
        with self._lock:
            return sorted(r.process.pid for r in self._all)

    def render(self, job: RenderJob, timeout_s: float, queue_deadline: float) -> bytes:
        """Render a job in a free process: wait until queue_deadline (time.monotonic())
        for one, then at most timeout_s for the image."""
        renderer = self._take(queue_deadline)
        try:
            renderer.connection.send(
                ((job.xml, job.bbox, job.width, job.height, job.image_format), timeout_s)
            )
            reply = renderer.connection.recv() if renderer.connection.poll(timeout_s) else None
        except (EOFError, OSError):
            self._replace(renderer)
            if self.closed:
                raise PoolClosedError("the service is stopping") from None
            logger.error("a render process stopped during a render (exit %s)", _exit(renderer))
            raise RenderFailedError(
                "the map renderer stopped unexpectedly", "ProcessExit", str(_exit(renderer))
            ) from None
        if reply is None:
            logger.warning("render killed after %.3g s (%d x %d)", timeout_s, job.width, job.height)
            self._replace(renderer)
            raise RenderTimeoutError(f"the map took longer than {timeout_s:g} s to draw")
        if reply[0] == "ok":
            self._give_back(renderer)
            return reply[1]
        # A fresh process after an error: no parsed map or database connection is kept
        # from a render that failed (e.g. connections broken by a database restart).
        self._replace(renderer)
        _, kind, detail = reply
        raise RenderFailedError("the map renderer reported an error", kind, detail)

    def close(self) -> None:
        """Stop every render process; renders under way end with PoolClosedError."""
        with self._lock:
            if self._stopped:
                return
            # closed may already be set by kill_now(); the processes are reaped here.
            self._stopped = self.closed = True
            renderers = list(self._all)
            self._all.clear()
        for renderer in renderers:
            # A busy renderer's pipe belongs to the thread waiting on it, which sees EOF.
            _kill(renderer)
        while True:
            try:
                idle = self._idle.get_nowait()
            except queue.Empty:
                break
            if idle is not None:
                _reap(idle)
        self._idle.put(None)  # wakes every waiting request, each passing it on

    def kill_now(self) -> None:
        """Kill every render process without taking a lock (safe in a signal handler)."""
        self.closed = True
        for renderer in list(self._all):
            try:
                os.kill(renderer.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _start(self) -> None:
        """Start a render process; it joins the idle queue once it reports that it is ready,
        so the time it takes to start never counts against a render's time limit."""
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                # -P: the script's folder (app/wms, with pool.py, service.py...) stays off
                # sys.path, so no module of ours shadows one Mapnik imports.
                [sys.executable, "-P", str(WORKER_SCRIPT), str(theirs.fileno()), self._pgoptions],
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        renderer = _Renderer(process, Connection(ours.detach()))
        with self._lock:
            started = not self.closed
            if started:
                self._all.add(renderer)
        if not started:
            _kill(renderer)
            _reap(renderer)
            return
        threading.Thread(
            target=self._admit, args=(renderer,), name="render-start", daemon=True
        ).start()

    def _admit(self, renderer: _Renderer) -> None:
        try:
            ready = (
                renderer.connection.poll(START_TIMEOUT_S) and renderer.connection.recv() == READY
            )
        except (EOFError, OSError):
            ready = False
        with self._lock:
            # Under the lock, so close() either sees it in the idle queue or kills it here.
            admitted = ready and not self.closed
            if admitted:
                self._idle.put(renderer)
            else:
                self._all.discard(renderer)
            closed = self.closed
        if admitted:
            return
        _kill(renderer)
        _reap(renderer)
        if not closed:
            logger.error(
                "a render process did not start (exit %s); trying again in %g s",
                _exit(renderer),
                START_RETRY_S,
            )
            time.sleep(START_RETRY_S)
            self._start()

    def _take(self, deadline: float) -> _Renderer:
        while True:
            if self.closed:
                raise PoolClosedError("the service is stopping")
            remaining = deadline - time.monotonic()
            try:
                # In short steps, so a pool closed by a signal handler (which may take no
                # lock, not even the queue's) is noticed promptly.
                renderer = self._idle.get(timeout=min(max(remaining, 0.0), CLOSED_POLL_S))
            except queue.Empty:
                if remaining <= CLOSED_POLL_S:
                    raise RendererBusyError(
                        "every map renderer is busy; try again shortly"
                    ) from None
                continue
            if renderer is None:
                self._idle.put(None)
                raise PoolClosedError("the service is stopping")
            if renderer.process.poll() is None:
                return renderer
            # Gone while idle (out of memory, an operator's kill): start another.
            logger.warning("an idle render process had stopped (exit %s)", _exit(renderer))
            self._replace(renderer)

    def _give_back(self, renderer: _Renderer) -> None:
        with self._lock:
            keep = not self.closed
            if keep:
                self._idle.put(renderer)
        if not keep:
            _kill(renderer)
            _reap(renderer)

    def _replace(self, renderer: _Renderer) -> None:
        _kill(renderer)
        _reap(renderer)
        with self._lock:
            self._all.discard(renderer)
            if self.closed:
                return
        self._start()


def _kill(renderer: _Renderer) -> None:
    if renderer.process.poll() is None:
        renderer.process.kill()


def _reap(renderer: _Renderer) -> None:
    try:
        renderer.process.wait(JOIN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        logger.error("render process %d did not stop when killed", renderer.process.pid)
    renderer.connection.close()


def _exit(renderer: _Renderer) -> int | None:
    return renderer.process.returncode


_pool: RenderPool | None = None
_pool_lock = threading.Lock()
_exiting = False


def render_pool(settings: Settings) -> RenderPool:
    """Return the process's render pool, starting it on first use (or after a stop)."""
    global _pool
    if _exiting:
        raise PoolClosedError("the service is stopping")
    with _pool_lock:
        if _pool is None or _pool.closed:
            _pool = RenderPool(
                settings.wms_render_processes, max(1, round(settings.wms_render_timeout_s * 1000))
            )
        return _pool


def render(job: RenderJob, settings: Settings, queue_deadline: float | None = None) -> bytes:
    """Render a job in the pool with the settings' time limits."""
    if queue_deadline is None:
        queue_deadline = time.monotonic() + settings.wms_queue_timeout_s
    return render_pool(settings).render(job, settings.wms_render_timeout_s, queue_deadline)


def prepare_render_pool() -> None:
    """At the app's start: renders are taken again; from the main thread (a server, not a
    test client), SIGTERM and SIGINT also stop the renders under way."""
    global _exiting
    _exiting = False
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            _chain_signal(signum)


def stop_render_pool() -> None:
    """Stop the render processes (app lifespan); a later render starts a new pool."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()


def _chain_signal(signum: int) -> None:
    """Kill the renderers on this signal, then do what the handler before ours did."""
    previous = signal.getsignal(signum)
    if getattr(previous, "stops_renderers", False):
        return

    def handler(received: int, frame: object) -> None:
        # The server waits for requests under way before it stops; a render may take up to
        # wms_render_timeout_s, so it is ended now (the request answers 503) for a prompt
        # stop. No locks here: the interrupted main thread may hold them.
        global _exiting
        _exiting = True
        pool = _pool
        if pool is not None:
            pool.kill_now()
        if callable(previous):
            previous(received, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(received, signal.SIG_DFL)
            signal.raise_signal(received)

    handler.stops_renderers = True  # type: ignore[attr-defined]
    signal.signal(signum, handler)
