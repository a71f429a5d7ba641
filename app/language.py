"""The language of each answer: bokmål by default, English when Accept-Language asks for it."""

from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spatial.messages import DEFAULT_LANGUAGE, negotiate

_LANGUAGE: ContextVar[str] = ContextVar("arealsjekk_language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """Return the language of the request being answered ('nb' outside a request)."""
    return _LANGUAGE.get()


class LanguageMiddleware:
    """Pick the answer's language from Accept-Language; say it in Content-Language and Vary."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request in its language; restore the previous language after."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = None
        for name, value in scope.get("headers", []):
            if name == b"accept-language":
                accept = value.decode("latin-1")
                break
        language = negotiate(accept)
        token = _LANGUAGE.set(language)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Caches must keep the languages apart (RFC 9110 §12.5.5).
                headers.add_vary_header("Accept-Language")
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _LANGUAGE.reset(token)
