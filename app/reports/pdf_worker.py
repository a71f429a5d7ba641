"""A PDF layout process: lays out one HTML document with WeasyPrint, then exits (app.reports.pdf).

WeasyPrint's layout cannot be interrupted inside a thread and its memory grows with the
document, so it runs here, in a process the service can kill:
`python -P app/reports/pdf_worker.py TIME_LIMIT_S MEMORY_BYTES`. The job comes on stdin as
JSON {"html": ..., "base_url": ...}; the PDF goes to stdout. The module imports WeasyPrint
and nothing of the application.
"""

import json
import math
import resource
import signal
import sys

# Seconds past the parent's own limit after which the process ends itself (SIGALRM), in case
# the parent is gone and cannot kill it.
ALARM_GRACE_S = 5
# Exit statuses the parent tells apart (app.reports.pdf).
EXIT_FAILED = 1
EXIT_OUT_OF_MEMORY = 3


def data_urls_only(url: str, timeout: int = 10, ssl_context=None) -> dict:  # noqa: ANN001
    """Give WeasyPrint the document's embedded images and nothing else.

    The reports embed their maps as data: URLs; fetching any other URL would let text in a
    report make the service send requests on its own network (SSRF, OWASP A10).
    """
    from weasyprint.urls import default_url_fetcher

    if not url.startswith("data:"):
        raise ValueError(f"reports load no external resources ({url[:80]})")
    return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)


# Tagged PDF for screen readers and archives: PDF/UA-1 (ISO 14289-1) gives the structure tree,
# /MarkInfo, the document language (from <html lang>) and the title (from <title>, shown
# instead of the file name: /DisplayDocTitle).
PDF_VARIANT = "pdf/ua-1"


def layout(html: str, base_url: str) -> bytes:
    """Lay out an HTML document on tagged (PDF/UA-1) A4 pages; relative links resolve
    against base_url."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url, url_fetcher=data_urls_only)
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def main(time_limit_s: float, memory_bytes: int) -> int:
    """Read one job from stdin, write its PDF to stdout; return the exit status."""
    # Ctrl-C reaches the whole process group; the parent ends its layouts itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGALRM's default action ends the process even inside Pango's C code.
    signal.alarm(math.ceil(time_limit_s) + ALARM_GRACE_S)
    # Address space, not RSS: Linux enforces no RSS limit; a layout past it gets MemoryError
    # (or fails to map memory) instead of taking the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        job = json.loads(sys.stdin.buffer.read())
        pdf = layout(job["html"], job["base_url"])
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), int(sys.argv[2])))
