"""Pieces of text that every kind's section of a bundle's model card
(:mod:`auralens.models.bundle.card`) writes the same way."""
from __future__ import annotations


def percent(x: float | None) -> str:
    """A fraction as a percentage with one decimal (``0.8765`` -> ``87.7 %``); ``-`` for None."""
    return "-" if x is None else f"{100 * x:.1f} %"


def resumed(training: dict) -> str:
    """`` in 2 calls (resumed from its checkpoint)`` for a run that was interrupted, else ''.

    ``training``: a model's training record in ``bundle.json`` (its ``calls``: how many calls
    the run took).
    """
    calls = training.get("calls") or 1
    return f" in {calls} calls (resumed from its checkpoint)" if calls > 1 else ""
