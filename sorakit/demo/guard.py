"""An ASGI middleware in front of the demo's Gradio app: what a page that strangers can reach needs.

- Request sizes: a body must say its length, and is refused (413) above `max_body` (JSON calls) or
  `max_upload` (/upload); uploads share a byte budget per hour, so anonymous clients cannot fill
  the disk (Gradio keeps uploads for its cache lifetime).
- Host check: bound to loopback (and not shared), only requests naming a loopback host are served,
  so a web page cannot reach the demo through DNS rebinding.
- Logins: after `login_failures` wrong passwords from one client within `login_window` seconds,
  its logins are refused (429) for `lockout` seconds.
- Headers on every response: nosniff, no referrer, a content security policy the app works under,
  and frame options (no framing when shared; loopback pages may be framed by a local notebook).

Gradio creates its FastAPI app inside `launch`, so this is passed in as `app_kwargs={"middleware": ...}`.
"""
from __future__ import annotations

import time
from collections import defaultdict, deque

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
BODY_METHODS = {b"POST", b"PUT", b"PATCH"}
MAX_UPLOADS = 5000  # uploads per window, however small
MAX_CLIENTS = 10_000  # clients remembered for the login limit (a flood of addresses cannot grow it further)
# Gradio's page: inline boot script and styles, its own fonts from Google, media as blob:/data: URLs.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline' "
       "https://fonts.googleapis.com; font-src 'self' data: https://fonts.gstatic.com; "
       "img-src 'self' data: blob:; media-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}")
LOCAL_FRAMERS = "'self' http://localhost:* http://127.0.0.1:* http://[::1]:*"  # Jupyter shows the demo inline


def _host_name(value: bytes) -> str:
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):  # [::1]:7860
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


class Guard:
    def __init__(self, app, *, loopback_only: bool, shared: bool, max_body: int = 1 << 20,
                 max_upload: int = 10 << 20, upload_budget: int = 512 << 20, upload_window: float = 3600.0,
                 login_failures: int = 5, login_window: float = 60.0, lockout: float = 60.0):
        self.app, self.loopback_only = app, loopback_only
        self.max_body, self.max_upload = max_body, max_upload + (64 << 10)  # multipart framing
        self.upload_budget, self.upload_window = upload_budget, upload_window
        self.uploads: deque[tuple[float, int]] = deque()
        self.login_failures, self.login_window, self.lockout = login_failures, login_window, lockout
        self.failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self.locked_until: dict[str, float] = {}
        ancestors = "'none'" if shared else LOCAL_FRAMERS
        self.headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                        (b"content-security-policy", CSP.format(ancestors=ancestors).encode())]
        if shared:
            self.headers.append((b"x-frame-options", b"DENY"))

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.loopback_only and _host_name(headers.get(b"host", b"")) not in LOOPBACK_HOSTS:
            return await self._refuse(scope, send, 421, "this demo serves only requests to localhost")
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        refusal = self._check_body(scope, headers)
        if refusal is not None:
            return await self._refuse(scope, send, *refusal)
        path, client = scope.get("path", ""), (scope.get("client") or ("?", 0))[0]
        login = scope["method"] == "POST" and path.rstrip("/").endswith("/login")
        if login and self.locked_until.get(client, 0) > time.monotonic():
            return await self._refuse(scope, send, 429, "too many wrong logins: wait a minute", retry=self.lockout)
        status = {}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.headers if h[0] not in have)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if login:
            self._count_login(client, status.get("code", 500))

    def _check_body(self, scope, headers) -> tuple[int, str] | None:
        if scope["method"].encode() not in BODY_METHODS:
            return None
        length = headers.get(b"content-length")
        if length is None or not length.strip().isdigit():
            return 411, "send the request body with a Content-Length"
        size = int(length)
        upload = scope.get("path", "").rstrip("/").endswith("/upload")
        limit = self.max_upload if upload else self.max_body
        if size > limit:
            return 413, f"the request is {size} bytes; at most {limit} are accepted"
        if upload:
            now = time.monotonic()
            while self.uploads and self.uploads[0][0] < now - self.upload_window:
                self.uploads.popleft()
            if sum(n for _, n in self.uploads) + size > self.upload_budget or len(self.uploads) >= MAX_UPLOADS:
                return 503, "the demo has taken all the uploads it can for now; try again later"
            self.uploads.append((now, size))
        return None

    def _count_login(self, client: str, code: int) -> None:
        now = time.monotonic()
        if code < 400:  # a good login forgets the earlier mistakes
            self.failures.pop(client, None)
            return
        if len(self.failures) >= MAX_CLIENTS or len(self.locked_until) >= MAX_CLIENTS:
            self._forget_old(now)
        recent = self.failures[client]
        recent.append(now)
        while recent and recent[0] < now - self.login_window:
            recent.popleft()
        if len(recent) >= self.login_failures:
            self.locked_until[client] = now + self.lockout
            recent.clear()

    def _forget_old(self, now: float) -> None:
        self.locked_until = {c: t for c, t in self.locked_until.items() if t > now}
        for client in [c for c, times in self.failures.items() if not times or times[-1] < now - self.login_window]:
            del self.failures[client]
        if len(self.failures) >= MAX_CLIENTS:  # all recent: start over rather than grow
            self.failures.clear()

    async def _refuse(self, scope, send, code: int, text: str, retry: float | None = None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), *self.headers]
        if retry is not None:
            headers.append((b"retry-after", str(int(retry)).encode()))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})
