"""PDF layout of reports where it can be stopped: one WeasyPrint process per PDF, bounded.

WeasyPrint cannot be interrupted inside a thread, and a large document took minutes of CPU
and gigabytes of memory, going on after its client had left (issue 16). So each PDF is laid
out by a new process running app/reports/pdf_worker.py, as app.wms.pool starts its renderers
(a script with `-P`, not multiprocessing, which would import the whole application): at most
MAX_LAYOUTS at once, a request waits at most QUEUE_TIMEOUT_S for a slot, a layout is killed
past LAYOUT_TIMEOUT_S or when its client disconnects, and its address space is capped at
MEMORY_LIMIT_BYTES. Waiting is asynchronous: no server thread is held while a PDF is laid out.

A new process costs the import of WeasyPrint; in return nothing of one layout
(memory, a stuck Pango) can outlive it.
"""

import base64
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process
from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

logger = logging.getLogger(__name__)

# Run as a script, not as app.reports.pdf_worker: importing the package would load the app.
WORKER_SCRIPT = Path(__file__).with_name("pdf_worker.py")
# Module constants until they are settings (report_pdf_processes, report_pdf_timeout_s,
# report_pdf_queue_timeout_s, report_pdf_memory_bytes). The time-out leaves a capped report
# (app.reports.data) room to lay out on a loaded 2-core machine; 2 layouts at once keep a core
# for everything else.
MAX_LAYOUTS = 2
LAYOUT_TIMEOUT_S = 45.0
QUEUE_TIMEOUT_S = 5.0
# Address space: a capped report peaks at about 200 MB resident, WeasyPrint alone ~100 MB.
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
# Seconds a client should wait before asking again after a 503.
RETRY_AFTER_S = 10
# How often a request waiting for a slot looks again, and a layout checks its client.
POLL_S = 0.25
# Logged for a request whose client left during its layout (nginx's "client closed request");
# the answer goes nowhere.
CLIENT_CLOSED_REQUEST = 499
# Exit statuses of app/reports/pdf_worker.py.
EXIT_OUT_OF_MEMORY = 3

_slots = threading.BoundedSemaphore(MAX_LAYOUTS)
_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in a PDF as a PDF/A-3 associated file (ISO 19005-3 §6.8)."""

    name: str
    media_type: str
    content: bytes
    description: str
    # ISO 32000-2 §7.11.3: Data for data the document's content is drawn from.
    relationship: str = "Data"

    def job(self) -> dict[str, str]:
        """The attachment as the layout process reads it from its JSON job."""
        return {
            "name": self.name,
            "media_type": self.media_type,
            "description": self.description,
            "relationship": self.relationship,
            "data": base64.b64encode(self.content).decode("ascii"),
        }


class ClientLeftError(Exception):
    """The client closed the connection while its PDF was laid out; the layout was stopped."""


def running_pids() -> list[int]:
    """Return the process ids of the PDF layouts under way."""
    with _running_lock:
        return sorted(_running)


BUSY = "every PDF layout slot is busy; try again shortly"


def too_slow() -> str:
    """The detail of a 503 for a layout stopped at its time limit."""
    return (
        f"the report took too long to lay out as PDF (over {LAYOUT_TIMEOUT_S:g} s) and was "
        "stopped; try again later, or use the HTML report"
    )


def _unavailable(detail: str) -> HTTPException:
    # RFC 9110 §10.2.3: a 503 says when to try again.
    return HTTPException(503, detail, headers={"Retry-After": str(RETRY_AFTER_S)})


@asynccontextmanager
async def layout_slot() -> AsyncIterator[None]:
    """Hold one of MAX_LAYOUTS PDF slots; 503 when none is free within QUEUE_TIMEOUT_S."""
    # Polled rather than awaited: the slots are shared by every event loop of the process
    # (tests run several), and anyio's primitives belong to one loop.
    deadline = time.monotonic() + QUEUE_TIMEOUT_S
    while not _slots.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise _unavailable(BUSY)
        await anyio.sleep(POLL_S)
    try:
        yield
    finally:
        _slots.release()


async def html_to_pdf(
    html: str,
    base_url: str,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
    attachments: Sequence[PdfAttachment] = (),
) -> bytes:
    """Lay out an HTML report on A4 pages as PDF/A-3a in a new process, within the time and
    memory limits, with the given files attached.

    Relative links resolve against base_url. Raises a 503 HTTPException when the layout runs
    past LAYOUT_TIMEOUT_S or MEMORY_LIMIT_BYTES, and ClientLeftError (after killing the
    process) when `disconnected()` says the client has left.
    """
    job = json.dumps(
        {"html": html, "base_url": base_url, "attachments": [a.job() for a in attachments]}
    ).encode()
    started = time.monotonic()
    process = await anyio.open_process(
        [
            sys.executable,
            # -P: app/reports stays off sys.path, so no module of ours shadows one it imports.
            "-P",
            str(WORKER_SCRIPT),
            str(LAYOUT_TIMEOUT_S),
            str(MEMORY_LIMIT_BYTES),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None,  # WeasyPrint's warnings and a failure's traceback go to the service's log
    )
    with _running_lock:
        _running.add(process.pid)
    try:
        pdf, client_left = await _run(process, job, disconnected)
    finally:
        # Shielded: a cancelled request (server stopping) still reaps its process.
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.kill()
            await process.wait()
            await process.aclose()
        with _running_lock:
            _running.discard(process.pid)
    elapsed = time.monotonic() - started
    if client_left:
        logger.info("PDF layout stopped after %.1f s: the client left", elapsed)
        raise ClientLeftError()
    if pdf is None:
        logger.warning("PDF layout killed after %.1f s (%d bytes of HTML)", elapsed, len(html))
        raise _unavailable(too_slow())
    if process.returncode == EXIT_OUT_OF_MEMORY:
        logger.warning("PDF layout ran out of memory (%d bytes of HTML)", len(html))
        raise _unavailable(
            "the report needed more memory than a PDF layout may use and was stopped; "
            "use the HTML report"
        )
    if process.returncode != 0:
        # Past the address-space limit C libraries may also crash (SIGSEGV) or abort.
        logger.error("PDF layout failed (exit %s, %d bytes of HTML)", process.returncode, len(html))
        raise _unavailable("the PDF could not be laid out; try again later, or use the HTML report")
    logger.info("PDF laid out in %.1f s (%d bytes)", elapsed, len(pdf))
    return pdf


async def _run(
    process: Process, job: bytes, disconnected: Callable[[], Awaitable[bool]] | None
) -> tuple[bytes | None, bool]:
    """Send the job and read the PDF; (None, False) past the time limit, (None, True) when
    the client left first."""
    assert process.stdin is not None and process.stdout is not None
    chunks: list[bytes] = []
    client_left = False
    with anyio.move_on_after(LAYOUT_TIMEOUT_S) as timer:
        async with anyio.create_task_group() as tasks:
            if disconnected is not None:

                async def watch() -> None:
                    nonlocal client_left
                    while not await disconnected():
                        await anyio.sleep(POLL_S)
                    client_left = True
                    tasks.cancel_scope.cancel()

                tasks.start_soon(watch)
            try:
                await process.stdin.send(job)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the process ended early; its exit status says why
            await process.stdin.aclose()
            try:
                async for chunk in process.stdout:
                    chunks.append(chunk)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass
            await process.wait()
            tasks.cancel_scope.cancel()
    if client_left:
        return None, True
    if timer.cancelled_caught:
        return None, False
    return b"".join(chunks), False


async def inline_pdf(
    request: Request,
    base_url: str,
    build_html: Callable[[], str],
    filename: str,
    build_attachments: Callable[[], Sequence[PdfAttachment]] | None = None,
) -> Response:
    """A report as an inline A4 PDF answer: its HTML (and the files to attach) built in a
    thread and laid out within a layout slot; 499 when the client left meanwhile."""
    try:
        async with layout_slot():
            files = await run_in_threadpool(build_attachments) if build_attachments else ()
            html = await run_in_threadpool(build_html)
            content = await html_to_pdf(html, base_url, request.is_disconnected, files)
    except ClientLeftError:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
