"""Accounts: who is asking. On this machine only (the default) everyone is one built-in local
user and nobody signs in; a server shared beyond loopback has accounts, made with
``auralens users add NAME``, and every request carries a signed session cookie.

- Passwords are hashed with argon2id (``argon2-cffi``); a name that does not exist costs as much
  time as a wrong password, so timing tells nothing.
- A session is a random token kept in the database (so that signing out, or removing a user,
  ends it at once), sent to the browser signed with the data directory's secret key
  (``itsdangerous``) in an http-only, same-site cookie, secure when served over https.
- :class:`WhoIsAsking` (ASGI middleware) sets ``request.state.user`` to a :class:`User` on
  every request; without a valid session on a server with accounts, the API answers 401 and
  the page sends the browser to ``/login``.
"""
from __future__ import annotations

import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from auralens.models.atomic import atomic_path

from .names import clean_name, name_key
from .storage import LOCAL_OWNER, Storage

SESSION_COOKIE = "auralens_session"
SESSION_DAYS = 14  # a session lasts this long after signing in
MIN_PASSWORD = 8  # characters
MAX_PASSWORD = 1024
USER_NAME = re.compile(r"[\w.@-]{1,40}")  # letters, digits, _ . @ -


@dataclass(frozen=True)
class User:
    """Who is asking: an account's id and name (for the local user, both ``"local"``)."""

    id: str
    name: str


LOCAL_USER = User(LOCAL_OWNER, LOCAL_OWNER)

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes (RFC 9106's second recommendation)
_hashing = threading.BoundedSemaphore(2)  # at most 2 x 64 MiB hashing at once, however many ask
_NO_USER_HASH = _hasher.hash(secrets.token_hex(16))  # verified against when the name is unknown


class AccountError(ValueError):
    """A user name or password that cannot be used; the message says why."""


def user_name(raw: str) -> str:
    """A cleaned account name; :class:`AccountError` when it is not 1-40 letters, digits, ``_ . @ -``,
    or is the local user's."""
    name = clean_name(raw)
    if not USER_NAME.fullmatch(name):
        raise AccountError(f"A user name is 1 to 40 letters, digits or _ . @ - (not {name[:60]!r}).")
    if name_key(name) == name_key(LOCAL_USER.name):
        raise AccountError(f"The name {name!r} is the built-in local user's; choose another.")
    return name


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; :class:`AccountError` when it is too short or too long."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters; "
                           f"this one has {len(password)}.")
    with _hashing:
        return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    with _hashing:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def add_user(storage: Storage, name: str, password: str) -> User:
    """Make an account; :class:`AccountError` when the name (or one that looks the same) is taken."""
    name = user_name(name)
    user_id = storage.add_user(name, name_key(name), hash_password(password))
    if user_id is None:
        raise AccountError(f"There is already a user called {storage.user_named(name_key(name))['name']!r}.")
    return User(user_id, name)


def find_user(storage: Storage, name: str) -> User:
    """The account called ``name``; :class:`AccountError` when there is none."""
    found = storage.user_named(name_key(name))
    if found is None:
        raise AccountError(f"There is no user called {clean_name(name)[:60]!r}.")
    return User(found["id"], found["name"])


def check_password(storage: Storage, name: str, password: str) -> User | None:
    """The account when ``name`` and ``password`` match one, else None (in the same time)."""
    found = storage.user_named(name_key(name)) if len(password) <= MAX_PASSWORD else None
    if found is None:
        _verify(_NO_USER_HASH, password[:MAX_PASSWORD])
        return None
    if not _verify(found["password"], password):
        return None
    if _hasher.check_needs_rehash(found["password"]):
        storage.set_password(found["id"], hash_password(password))
    return User(found["id"], found["name"])


def secret_key(data_dir: Path) -> bytes:
    """The key session cookies are signed with: ``<data dir>/session.key``, made once (readable
    by its owner only), so that sessions survive restarts; delete it to end every session."""
    path = Path(data_dir) / "session.key"
    if not path.is_file():
        with atomic_path(path) as tmp:
            tmp.write_bytes(secrets.token_bytes(32))
            os.chmod(tmp, 0o600)
    return path.read_bytes()


class Sessions:
    """Sessions of the accounts in ``storage()`` (the app's storage, reopened on each start),
    carried in cookies signed with ``key``."""

    def __init__(self, storage: Callable[[], Storage], key: bytes):
        self._storage = storage
        self._signer = TimestampSigner(key, salt="auralens-session")

    def start(self, user: User) -> str:
        """A new session for ``user``; returns the cookie's value."""
        token = secrets.token_urlsafe(32)
        self._storage().add_session(token, user.id)
        return self._signer.sign(token).decode()

    def _token(self, cookie: str) -> str | None:
        try:
            return self._signer.unsign(cookie, max_age=SESSION_DAYS * 86400).decode()
        except BadSignature:  # forged, altered or expired
            return None

    def user(self, cookie: str | None) -> User | None:
        """Whose session ``cookie`` is, None when it is no valid, live session."""
        token = self._token(cookie) if cookie else None
        found = self._storage().session_user(token) if token else None
        return User(found["id"], found["name"]) if found else None

    def end(self, cookie: str | None) -> None:
        token = self._token(cookie) if cookie else None
        if token:
            self._storage().end_session(token)


# what a browser may fetch before signing in: the sign-in page and what it needs
OPEN_PATHS = frozenset({"/login", "/style.css", "/api/health", "/api/session"})
OPEN_PREFIXES = ("/js/", "/vendor/")


class WhoIsAsking:
    """ASGI middleware setting ``request.state.user``: the local user when ``sessions`` is
    None (no accounts), else the session's user. Without one, only :data:`OPEN_PATHS` answer;
    the API says 401 and the page's addresses lead to ``/login``."""

    def __init__(self, app: ASGIApp, sessions: Sessions | None):
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.sessions is None:
            state["user"] = LOCAL_USER
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user = self.sessions.user(request.cookies.get(SESSION_COOKIE))
        state["user"] = user
        path = scope["path"]
        if user is None and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES):
            if path.startswith("/api/") or path == "/openapi.json" or scope["method"] != "GET":
                response = JSONResponse({"detail": "Sign in first: this server has accounts (open its page "
                                                   "to sign in)."}, status_code=401)
            else:
                response = RedirectResponse("/login", status_code=303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
