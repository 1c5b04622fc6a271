"""Signing in and out: who the page is for (``GET /api/session``), a session from a name and
a password (``POST``), its end (``DELETE``)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ..accounts import SESSION_COOKIE, SESSION_DAYS, check_password
from ..deps import State
from ..errors import COMMON, Conflict, Unauthorized
from ..state import AppState

router = APIRouter(prefix="/api/session", tags=["accounts"], responses=COMMON)


class SignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=4096)


class UserOut(BaseModel):
    id: str
    name: str


class SessionOut(BaseModel):
    accounts: bool = Field(description="whether this server has accounts (false: everyone is the local user)")
    user: UserOut | None = Field(description="who is signed in (the local user without accounts)")


def session_out(request: Request, state: AppState) -> SessionOut:
    user = request.state.user
    return SessionOut(accounts=state.settings.accounts, user=UserOut(id=user.id, name=user.name) if user else None)


@router.get("", response_model=SessionOut)
def who_is_asking(request: Request, state: State) -> SessionOut:
    """Whether the server has accounts and who is signed in."""
    return session_out(request, state)


@router.post("", response_model=SessionOut, responses={401: {"description": "a wrong name or password"},
                                                       409: {"description": "a server without accounts"}})
def sign_in(body: SignIn, request: Request, response: Response, state: State) -> SessionOut:
    """Sign in with a name and password; the session is an http-only cookie."""
    if not state.settings.accounts:
        raise Conflict("This server has no accounts: it answers this machine only, and nobody needs to sign in.")
    user = check_password(state.storage, body.name, body.password)
    if user is None:
        raise Unauthorized("Wrong user name or password.")
    response.set_cookie(SESSION_COOKIE, request.app.state.sessions.start(user), max_age=SESSION_DAYS * 86400,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")
    request.state.user = user
    return session_out(request, state)


@router.delete("", status_code=204, response_class=Response)
def sign_out(request: Request) -> Response:
    """End the session (signing out); nothing happens without one, or without accounts."""
    if request.app.state.sessions is not None:
        request.app.state.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
