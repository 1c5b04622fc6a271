"""Reading and changing what a named layer of a model computes.

Every explainer here treats a model as a ``torch.nn.Module`` whose forward gives class scores
``(B, C)`` (or an output with a ``logits`` field, like the prototype model's), and a layer as
the output of one of its submodules, named as :meth:`torch.nn.Module.get_submodule` names it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.nn as nn


class LayerError(ValueError):
    """A layer name that does not exist, or whose output is not a single tensor."""


def class_scores(output) -> torch.Tensor:
    """The ``(B, C)`` class scores in a model's output: the tensor itself or its ``logits``.

    For the prototype model these are ``-tau * e_k``, the negated, scaled error of the best
    prototype of each class.
    """
    if isinstance(output, torch.Tensor):
        scores = output
    elif isinstance(getattr(output, "logits", None), torch.Tensor):
        scores = output.logits
    else:
        raise TypeError(f"The model's output ({type(output).__name__}) is neither a tensor of class "
                        "scores nor has a 'logits' tensor.")
    if scores.dim() != 2:
        raise TypeError(f"Class scores must be (batch, classes); the model gave shape {tuple(scores.shape)}.")
    return scores


def placement(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """The device and dtype of the model's first parameter (CPU, float32 for a model without one):
    where its inputs go."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    return device, dtype


def resolve_layer(model: nn.Module, name: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError:
        raise LayerError(f"The model has no layer '{name}'. Layers with tensor outputs include: "
                         f"{', '.join(_some_names(model))}.") from None


def _some_names(model: nn.Module, limit: int = 12) -> list[str]:
    names = [n for n, _ in model.named_modules() if n]
    return names[:limit] + (["..."] if len(names) > limit else [])


def check_layers(model: nn.Module, names: list[str], example: torch.Tensor) -> None:
    """Raise :class:`LayerError` unless every named layer exists and gives one tensor.

    ``example`` is a batch of model inputs (one clip is enough). The error lists the layers
    that can be used instead.
    """
    if not names:
        raise LayerError("Name at least one layer.")
    for name in names:
        resolve_layer(model, name)
    rows = {r["name"]: r for r in describe_layers(model, example[:1])}
    bad = [n for n in names if n not in rows]
    if bad:
        raise LayerError(f"Layer '{bad[0]}' does not give one tensor (it gives a tuple, a list or "
                         f"nothing), so it cannot be tested. Layers with tensor outputs: {', '.join(rows)}.")


def _tensor(name: str, out) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        raise LayerError(f"Layer '{name}' gives a {type(out).__name__}, not one tensor.")
    return out


@contextmanager
def record_layers(model: nn.Module, names: list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, each forward of ``model`` stores the output of every named layer.

    Yields a dict ``{name: output}`` filled by the forward pass (the live tensors, so that
    gradients can be taken with respect to them).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> with record_layers(net, ["1"]) as seen:
    ...     _ = net(torch.ones(5, 4))
    >>> seen["1"].shape
    torch.Size([5, 3])
    """
    seen: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name in names:
            def hook(module, inputs, out, name=name):
                seen[name] = _tensor(name, out)
            handles.append(resolve_layer(model, name).register_forward_hook(hook))
        yield seen
    finally:
        for h in handles:
            h.remove()


class _Enough(Exception):
    """Raised by a hook to end a forward pass once every wanted layer has been seen."""


def forward_until(model: nn.Module, names: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Outputs of the named layers for input ``x``, running the forward pass only as far as
    needed (it is cut short once the last of them has run).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> forward_until(net, ["0"], torch.ones(5, 4))["0"].shape
    torch.Size([5, 3])
    """
    seen: dict[str, torch.Tensor] = {}
    wanted = set(names)
    handles = []

    def hook(module, inputs, out, name):
        seen[name] = _tensor(name, out)
        if wanted <= seen.keys():
            raise _Enough

    try:
        for name in dict.fromkeys(names):
            handles.append(resolve_layer(model, name).register_forward_hook(
                lambda m, i, o, name=name: hook(m, i, o, name)))
        model(x)
    except _Enough:
        pass
    finally:
        for h in handles:
            h.remove()
    return seen


@contextmanager
def replace_layer(model: nn.Module, name: str, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Within the block, the output ``h`` of layer ``name`` is replaced by ``fn(h)``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> with replace_layer(net, "1", torch.zeros_like):
    ...     out = net(torch.ones(1, 4))
    >>> torch.equal(out, net[2].bias.unsqueeze(0))
    True
    """
    handle = resolve_layer(model, name).register_forward_hook(lambda module, inputs, out: fn(_tensor(name, out)))
    try:
        yield
    finally:
        handle.remove()


def describe_layers(model: nn.Module, example: torch.Tensor) -> list[dict]:
    """Every submodule with a tensor output: ``[{"name", "shape", "non_negative"}]`` in forward order.

    ``shape`` is the output's shape for one clip (without the batch axis); ``non_negative``
    says whether the layer's outputs on ``example`` are all >= 0 (only such layers suit NMF
    discovery).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU())
    >>> describe_layers(net, torch.randn(1, 2, 10))[1]
    {'name': '1', 'shape': [4, 8], 'non_negative': True}
    """
    rows: dict[str, dict] = {}

    def hook(module, inputs, out, name):
        if isinstance(out, torch.Tensor) and name not in rows:
            rows[name] = {"name": name, "shape": list(out.shape[1:]), "non_negative": bool((out >= 0).all())}

    handles = [m.register_forward_hook(lambda mod, i, o, n=n: hook(mod, i, o, n))
               for n, m in model.named_modules() if n]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
    return list(rows.values())


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Evaluation mode (fixed batch-norm statistics, no dropout) within the block, restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
