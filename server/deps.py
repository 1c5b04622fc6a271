"""What the routes depend on, as typed dependencies: the app's state, and a model or a prototype
named in the path (an unknown one is answered 404, a model of a kind that lacks the view 422,
before the route runs).

>>> @router.get("/api/models/{model_id}/prototypes/{k}/what-if")   # doctest: +SKIP
... async def what_if(chosen: WhatIfPrototypeDep, state: State):
...     model_id, model, k = chosen
"""
from __future__ import annotations

from typing import Annotated, NamedTuple

import torch.nn as nn
from fastapi import Depends, Path, Request

from .accounts import LOCAL_USER, User
from .errors import Unauthorized
from .fair import ASKER
from .maps import Maps, maps_of
from .state import AppState, LoadedModel

PROTOTYPE_INDEX = Path(..., description="prototype index, 0 to K-1")


class ChosenPrototype(NamedTuple):
    """Prototype ``k`` of the bundle's model ``model_id``."""

    model_id: str
    model: nn.Module
    k: int


def asker_key(request: Request) -> str:
    """Who is asking, for sharing the server fairly: the signed-in user's id when
    ``request.state.user`` is an account, else (no accounts: everyone is the local user) the
    client's address."""
    user = getattr(request.state, "user", None)
    if user is not None and user != LOCAL_USER:
        return f"user:{user.id}"
    return f"address:{request.client.host if request.client else 'unknown'}"


async def note_asker(request: Request) -> None:
    """Mark the work this request queues with its asker and its connection (a dependency of
    every route; async, so that the mark is seen by the route that runs after it)."""
    client = request.client
    ASKER.set((asker_key(request), f"{client.host}:{client.port}" if client else "unknown"))


def get_state(request: Request) -> AppState:
    """The state :func:`auralens.server.app.create_app` built."""
    return request.app.state.auralens


State = Annotated[AppState, Depends(get_state)]


def current_user(request: Request) -> User:
    """Who is asking, as :class:`~auralens.server.accounts.WhoIsAsking` found: the signed-in
    user, or the built-in local user on a server without accounts."""
    user = getattr(request.state, "user", None)
    if user is None:
        raise Unauthorized("Sign in first: this server has accounts.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def model_in_path(model_id: str, state: State) -> LoadedModel:
    return state.model(model_id)


async def concept_model_in_path(model_id: str, state: State) -> LoadedModel:
    return state.model_showing(model_id, "concept_tests", "Concept testing")


async def prototype_in_path(model_id: str, state: State, k: int = PROTOTYPE_INDEX) -> ChosenPrototype:
    return ChosenPrototype(*state.prototype(model_id, k), k)


async def what_if_prototype_in_path(model_id: str, state: State, k: int = PROTOTYPE_INDEX) -> ChosenPrototype:
    state.model_showing(model_id, "what_if", "What-if")
    return ChosenPrototype(*state.prototype(model_id, k), k)


ModelDep = Annotated[LoadedModel, Depends(model_in_path)]  # the model {model_id}
ConceptModelDep = Annotated[LoadedModel, Depends(concept_model_in_path)]  # ... that concepts can be tested on
PrototypeDep = Annotated[ChosenPrototype, Depends(prototype_in_path)]  # prototype {k} of model {model_id}
WhatIfPrototypeDep = Annotated[ChosenPrototype, Depends(what_if_prototype_in_path)]  # ... to transform by hand


def get_maps(state: State) -> Maps:
    """The app's maps of clip sources (:mod:`auralens.server.maps`)."""
    return maps_of(state)


MapsDep = Annotated[Maps, Depends(get_maps)]
