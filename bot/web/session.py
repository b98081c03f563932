"""Stateless sessions and CSRF tokens for the web pages.

A session cookie is ``EXPIRY.NONCE.MAC``: its expiry (Unix seconds), a random nonce and an
HMAC-SHA256 over both with a key derived from the access token, so that any replica that
knows the token can check it without shared storage. Without a token (loopback only) the key
is random per process: the session only carries the CSRF token. A form's CSRF token is
HMAC(key, ``"csrf:" + cookie value``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

COOKIE = "playbook_session"
LIFETIME = 12 * 3600  # seconds
# Wrong tokens a client may offer within a minute before sign-in refuses it for that minute:
# guessing a token then takes years, and a teammate who mistyped is not locked out for long.
WRONG_TOKENS_PER_MINUTE = 10


class Sessions:
    """Makes and checks session cookies and CSRF tokens for one access token (or none)."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self.token = token
        self._clock = clock
        self._wrong: dict[str, list[float]] = {}  # client → when it offered a wrong token
        self._revoked: dict[str, float] = {}  # signed-out session nonce → its expiry
        if token:
            self._key = hmac.new(b"playbook-web-session", token.encode(), "sha256").digest()
        else:
            self._key = secrets.token_bytes(32)

    def _now(self) -> float:
        return self._clock()

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def locked_out(self, client: str) -> bool:
        """Whether ``client`` (an address) offered ``WRONG_TOKENS_PER_MINUTE`` wrong tokens
        within the last minute."""
        recent = [t for t in self._wrong.get(client, []) if t > self._now() - 60]
        self._wrong[client] = recent
        if not recent:
            del self._wrong[client]
        return len(recent) >= WRONG_TOKENS_PER_MINUTE

    def note_wrong(self, client: str) -> None:
        """Remember that ``client`` offered a wrong token now (a bounded number of clients)."""
        if len(self._wrong) > 10_000:
            self._wrong.clear()
        self._wrong.setdefault(client, []).append(self._now())

    def token_matches(self, offered: str) -> bool:
        """Whether ``offered`` is the access token (compared in constant time); always
        ``False`` without a token."""
        if not self.token:
            return False
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def new_cookie(self) -> str:
        """A fresh session cookie value, valid for ``LIFETIME`` seconds."""
        body = f"{int(self._now()) + LIFETIME}.{secrets.token_hex(16)}"
        return f"{body}.{self._mac(body)}"

    def revoke(self, cookie: str | None) -> None:
        """Refuse ``cookie`` from now on (sign-out), in this process; a replica refuses it
        when it expires or the token changes."""
        if not self.valid(cookie):
            return
        expiry, nonce, _mac = str(cookie).split(".")
        now = self._now()
        self._revoked = {n: e for n, e in self._revoked.items() if e > now}
        self._revoked[nonce] = float(expiry)

    def valid(self, cookie: str | None) -> bool:
        """Whether ``cookie`` is a session this key made, not signed out, and not expired."""
        if not cookie or cookie.count(".") != 2:
            return False
        expiry, nonce, mac = cookie.split(".")
        if nonce in self._revoked:
            return False
        if not hmac.compare_digest(mac.encode(), self._mac(f"{expiry}.{nonce}").encode()):
            return False
        return expiry.isascii() and expiry.isdigit() and int(expiry) > self._now()

    def csrf(self, cookie: str) -> str:
        """The CSRF token forms carry in the session ``cookie``."""
        return self._mac("csrf:" + cookie)

    def csrf_valid(self, cookie: str | None, offered: str | None) -> bool:
        """Whether ``offered`` is the CSRF token of a valid session ``cookie``."""
        if not offered or not cookie or not self.valid(cookie):
            return False
        return hmac.compare_digest(offered.encode(), self.csrf(cookie).encode())
