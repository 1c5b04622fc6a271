"""Concept activation vectors: many small linear classifiers, fitted all at once.

A CAV run separates the activations of a concept's clips (label +1) from those of one random
set (label -1) with L2-regularised logistic regression, on a balanced, stratified 2/3 - 1/3
split; the CAV is the unit normal of the boundary, pointing towards the concept, and the
run's accuracy is measured on the held-out third.

There are many runs (20 concept runs per concept, dozens of random-vs-random runs) but few
clips per run (~40 to train on) and long activation vectors (hundreds to 100 000 values). So
the weights are written as a combination of the training clips, ``w = sum_j a_j x_j``
(the minimiser always has this form), and every run is solved by Newton's method on its
~40 coefficients, all runs in one batch. Only the Gram matrix of the distinct clips is
needed: one matrix product, instead of one iterative fit per run over all dimensions.

Objective of one run (``n`` training clips, labels ``y = +-1``, ``f = X w + b``)::

    mean_i log(1 + exp(-y_i f_i)) + alpha / 2 * |w|^2
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Split:
    """Indices of one run into its concept set (``pos``) and random set (``neg``)."""

    pos_train: np.ndarray
    pos_test: np.ndarray
    neg_train: np.ndarray
    neg_test: np.ndarray


def balanced_split(n_pos: int, n_neg: int, seed: int, train_fraction: float = 2 / 3) -> Split:
    """A balanced, stratified train/test split of ``n_pos`` concept and ``n_neg`` random clips.

    The larger set is subsampled to the size ``n`` of the smaller; one permutation of
    ``range(n)`` then chooses the training positions of both sets, so that swapping the
    concept and the random set (of equal sizes) swaps the split exactly.

    Examples
    --------
    >>> s = balanced_split(30, 45, seed=3)
    >>> len(s.pos_train), len(s.pos_test), len(s.neg_train), len(s.neg_test)
    (20, 10, 20, 10)
    """
    n = min(n_pos, n_neg)
    n_train = int(round(train_fraction * n))
    if n < 3 or not 0 < n_train < n:
        raise ValueError(f"A CAV needs at least 3 clips on each side; got {n_pos} and {n_neg}.")
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(n_pos, n, replace=False)) if n_pos > n else np.arange(n)
    neg = np.sort(rng.choice(n_neg, n, replace=False)) if n_neg > n else np.arange(n)
    perm = rng.permutation(n)
    tr, te = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    return Split(pos[tr], pos[te], neg[tr], neg[te])


@dataclass
class CAVFit:
    """The fitted runs.

    cavs: ``(R, D)`` unit vectors (a zero row where the classifier found no direction).
    accuracy: ``(R,)`` held-out accuracy.
    train_accuracy: ``(R,)``.
    degenerate: ``(R,)`` bool, True where the weight vector was zero.
    """

    cavs: torch.Tensor
    accuracy: torch.Tensor
    train_accuracy: torch.Tensor
    degenerate: torch.Tensor


def fit_cavs(bank: torch.Tensor, train: np.ndarray, train_y: np.ndarray, test: np.ndarray,
             test_y: np.ndarray, alpha: float = 0.01, max_iter: int = 50, tol: float = 1e-10) -> CAVFit:
    """Fit R logistic-regression CAVs on rows of ``bank``, all runs at once.

    Parameters
    ----------
    bank : ``(M, D)`` activations of every distinct clip the runs use.
    train : ``(R, n)`` int row indices into ``bank`` of each run's training clips.
    train_y : ``(R, n)`` labels, +1 concept, -1 random.
    test, test_y : ``(R, m)`` the same for the held-out clips.
    alpha : L2 strength (on the mean loss).

    Returns
    -------
    CAVFit

    Examples
    --------
    >>> bank = torch.tensor([[1., 0.], [2., 0.], [3., 0.], [-1., 0.], [-2., 0.], [-3., 0.]])
    >>> fit = fit_cavs(bank, np.array([[0, 1, 3, 4]]), np.array([[1, 1, -1, -1]]),
    ...                np.array([[2, 5]]), np.array([[1, -1]]))
    >>> fit.cavs.tolist(), fit.accuracy.tolist()
    ([[1.0, 0.0]], [1.0])
    """
    A = bank.detach().to(torch.float64)
    G = A @ A.T  # (M, M) Gram matrix of the distinct clips
    tr, te = torch.as_tensor(train, dtype=torch.long), torch.as_tensor(test, dtype=torch.long)
    y = torch.as_tensor(train_y, dtype=torch.float64)  # (R, n)
    yt = torch.as_tensor(test_y, dtype=torch.float64)  # (R, m)
    K = G[tr.unsqueeze(-1), tr.unsqueeze(-2)]  # (R, n, n)
    a, b = _newton(K, y, alpha, max_iter, tol)  # (R, n), (R,)

    f_train = (K @ a.unsqueeze(-1)).squeeze(-1) + b.unsqueeze(-1)
    f_test = (G[te.unsqueeze(-1), tr.unsqueeze(-2)] @ a.unsqueeze(-1)).squeeze(-1) + b.unsqueeze(-1)
    train_acc = ((f_train > 0) == (y > 0)).double().mean(-1)
    test_acc = ((f_test > 0) == (yt > 0)).double().mean(-1)

    R, M = tr.shape[0], A.shape[0]
    coef = torch.zeros(R, M, dtype=torch.float64).scatter_add_(1, tr, a)  # (R, M)
    w = coef @ A  # (R, D)
    norm = w.norm(dim=-1, keepdim=True)
    degenerate = (norm.squeeze(-1) <= 1e-12 * (1 + A.abs().max()))
    cavs = torch.where(degenerate.unsqueeze(-1), torch.zeros_like(w), w / norm.clamp_min(1e-300))
    return CAVFit(cavs.to(bank.dtype), test_acc, train_acc, degenerate)


def _objective(K, y, a, b, alpha):
    f = (K @ a.unsqueeze(-1)).squeeze(-1) + b.unsqueeze(-1)
    penalty = 0.5 * alpha * (a.unsqueeze(-2) @ K @ a.unsqueeze(-1)).reshape(-1)
    return F.softplus(-y * f).mean(-1) + penalty, f


def _newton(K: torch.Tensor, y: torch.Tensor, alpha: float, max_iter: int, tol: float):
    """Minimise the objective over ``w = X^T a`` and ``b`` for a batch of runs.

    The Newton system in ``(a, b)`` is singular wherever ``K`` is; dividing its ``a`` rows by
    ``K`` gives an equivalent, regular system with the same steps in function space::

        (W K / n + alpha I) da + W 1 db / n = -(g / n + alpha a)
        1^T W K da / n      + 1^T W 1 db / n = -1^T g / n

    with ``g = -y sigmoid(-y f)`` and ``W = diag(sigmoid(f) sigmoid(-f))``. Steps are halved
    per run until the objective does not increase.
    """
    R, n = y.shape
    a = torch.zeros(R, n, dtype=torch.float64)
    b = torch.zeros(R, dtype=torch.float64)
    J, f = _objective(K, y, a, b, alpha)
    eye = torch.eye(n, dtype=torch.float64)
    for _ in range(max_iter):
        g = -y * torch.sigmoid(-y * f)  # (R, n)
        W = torch.sigmoid(f) * torch.sigmoid(-f)  # (R, n)
        grad_a = g / n + alpha * a
        grad_b = g.sum(-1) / n
        if float(torch.maximum(grad_a.abs().amax(), grad_b.abs().amax())) < tol:
            break
        H = torch.zeros(R, n + 1, n + 1, dtype=torch.float64)
        H[:, :n, :n] = W.unsqueeze(-1) * K / n + alpha * eye
        H[:, :n, n] = W / n
        H[:, n, :n] = (W.unsqueeze(-2) @ K).squeeze(-2) / n
        H[:, n, n] = W.sum(-1) / n + 1e-12
        rhs = -torch.cat([grad_a, grad_b.unsqueeze(-1)], dim=-1)
        step = torch.linalg.solve(H, rhs)  # (R, n + 1)
        da, db = step[:, :n], step[:, n]
        t = torch.ones(R, dtype=torch.float64)
        for _ in range(30):  # backtracking, per run
            J_new, f_new = _objective(K, y, a + t.unsqueeze(-1) * da, b + t * db, alpha)
            worse = J_new > J + 1e-12 * J.abs()
            if not worse.any():
                break
            t = torch.where(worse, t / 2, t)
        ok = ~worse
        a = torch.where(ok.unsqueeze(-1), a + t.unsqueeze(-1) * da, a)
        b = torch.where(ok, b + t * db, b)
        f = torch.where(ok.unsqueeze(-1), f_new, f)
        J = torch.where(ok, J_new, J)
    return a, b
