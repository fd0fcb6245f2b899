"""Browser sessions of the approval page: a signed cookie, and the CSRF token tied to it.

The cookie holds no token and the server keeps no session: it is ``v1.<role>.<expiry>.<nonce>``
signed with HMAC-SHA256 under a key derived from the approval and viewer tokens
(``HMAC(approval token, "pd_toolkit session\\0" + viewer token)``). So every replica started with
the same tokens accepts it, and rotating either token signs everyone out. Signing out clears the
cookie in the browser; a copy taken before stays valid until it expires (``lifetime``), as
with any stateless session. The CSRF token of a session is ``HMAC(key, "csrf." + nonce)``: forms
carry it, and a POST without it (or with another session's) is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal, cast

Role = Literal["approver", "viewer"]
ROLES: tuple[Role, ...] = ("approver", "viewer")
COOKIE = "pd_toolkit_session"
LIFETIME = 12 * 3600.0


def cookie_name(secure: bool) -> str:
    """The session cookie's name: ``__Host-`` prefixed when Secure (a browser then keeps it
    only from https, for this host and path /); browsers refuse that prefix without Secure."""
    return f"__Host-{COOKIE}" if secure else COOKIE


def match_token(offered: bytes, tokens: list[tuple[bytes, Role]]) -> Role | None:
    """The role of the configured token ``offered`` is; every token is compared, each in
    constant time."""
    role: Role | None = None
    for token, name in tokens:
        if hmac.compare_digest(offered, token):
            role = name
    return role


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its role, when the session ends, and its CSRF token."""

    role: Role
    expires: int
    csrf: str


class Sessions:
    """Issues and checks session cookies under a key derived from the tokens."""

    def __init__(
        self, approval_token: bytes, viewer_token: bytes | None, lifetime: float = LIFETIME
    ) -> None:
        self._key = hmac.new(
            approval_token, b"pd_toolkit session\0" + (viewer_token or b""), hashlib.sha256
        ).digest()
        self.lifetime = lifetime

    def issue(self, role: Role, now: float | None = None) -> tuple[str, Session]:
        """A new session for ``role``: the cookie's value and the session."""
        expires = int((now if now is not None else time.time()) + self.lifetime)
        payload = f"v1.{role}.{expires}.{secrets.token_urlsafe(16)}"
        cookie = f"{payload}.{_mac(self._key, payload)}"
        session = self.check(cookie, now)
        assert session is not None  # just signed
        return cookie, session

    def check(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None when it is missing, forged or expired."""
        payload, _, signature = (cookie or "").rpartition(".")
        if not payload or not hmac.compare_digest(
            signature.encode(), _mac(self._key, payload).encode()
        ):
            return None
        parts = payload.split(".")
        if len(parts) != 4:
            return None
        version, role, expires, nonce = parts
        if version != "v1" or role not in ROLES or not expires.isdigit() or not nonce:
            return None
        if int(expires) <= (now if now is not None else time.time()):
            return None
        csrf = _mac(self._key, f"csrf.{nonce}")
        return Session(role=cast(Role, role), expires=int(expires), csrf=csrf)

    @staticmethod
    def csrf_ok(session: Session, offered: str | None) -> bool:
        """Whether a form's CSRF token is this session's (compared in constant time)."""
        return hmac.compare_digest((offered or "").encode(), session.csrf.encode())
