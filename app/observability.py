"""Logs: one JSON object per line on stderr, with the id of the request each line belongs to.

`arealsjekk serve` hands `logging_config(settings)` to uvicorn (which applies it in every
worker process it starts), `arealsjekk worker` calls `configure_logging(settings)`. Each
line is one JSON object (AREALSJEKK_LOG_FORMAT=json, the image's default) or a readable
line for a terminal (text); AREALSJEKK_LOG_LEVEL sets the threshold.

Request ids: RequestMiddleware (app.metrics) takes the client's `X-Request-ID` when it is a
plain token (at most 128 characters of letters, digits, `.`, `_`, `-`), else makes one; the
id is echoed in the answer's `X-Request-ID` and every log line written while the request is
handled carries it (a context variable, which Starlette copies into the threads that run
synchronous endpoints). JSON encoding escapes line breaks, so a value from a request cannot
forge a log line (OWASP Logging Cheat Sheet, "log injection").
"""

import json
import logging
import logging.config
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.settings import Settings

_REQUEST_ID: ContextVar[str | None] = ContextVar("arealsjekk_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
# Our own fields, set by the filter or the formatter, not repeated as extras.
_OWN_FIELDS = frozenset({"request_id", "color_message"})


def current_request_id() -> str | None:
    """Return the id of the request being handled (None outside a request)."""
    return _REQUEST_ID.get()


def set_request_id(request_id: str | None) -> Any:
    """Make `request_id` the current one; return the token that restores the previous one."""
    return _REQUEST_ID.set(request_id)


def reset_request_id(token: Any) -> None:
    """Restore the request id that was current before `set_request_id` returned `token`."""
    _REQUEST_ID.reset(token)


def request_id_from(header: bytes | str | None) -> str:
    """Return the client's request id if it is a plain token, else a new one (uuid4 hex)."""
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Attach the current request id to every record (where the record is made)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set record.request_id unless the caller passed one; never drops a record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-12-07T03:04:05.123Z."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and key not in _OWN_FIELDS and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: timestamp, level, logger, message, process,
    request_id, exception, and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Several uvicorn workers or job workers write to one stream: which one wrote it.
            "process": record.process,
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        # default=str: an extra that JSON cannot hold (a datetime, a path) is written as text
        # rather than losing the line.
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for development: time, level, logger, [request id], message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of text (and the traceback, if any)."""
        request_id = getattr(record, "request_id", None)
        parts = [
            _timestamp(record.created),
            f"{record.levelname:7}",
            record.name,
            f"[{request_id}]" if request_id else "",
            record.getMessage(),
        ]
        extras = _extras(record)
        if extras:
            parts.append(" ".join(f"{key}={value}" for key, value in extras.items()))
        line = " ".join(part for part in parts if part)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(settings: Settings) -> dict[str, Any]:
    """Return the dictConfig for the service's logs (uvicorn's own loggers included)."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    level = settings.log_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # uvicorn's loggers write through the root handler; its access log is replaced by
        # app.metrics' line (route, duration, request id), so it stays quiet if enabled.
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Send every log record of this process to stderr in the configured format and level."""
    logging.config.dictConfig(logging_config(settings))
