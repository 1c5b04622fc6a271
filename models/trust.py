"""Whether a clip is like what the model knows, and confidences that mean what they say.

A prototype model always names a class - even for speech or the hum of a room. Two things
keep it honest:

* **Trust**: a "none of these" score from how the model explained the clip - the best
  prototype's error, how far ahead of the runner-up it is, and (pitch-anchored models) how
  much of the sounding clip had a pitch. A logistic model on these few figures is fitted on
  held-out clips of the training classes against sounds that are no class (the corpus's
  negatives); its threshold is set on the known clips, so that about ``flag_rate`` of them
  are flagged. The verdict comes with words a page can show.
* **Calibration**: a temperature divides the model's logits (``softmax(logits / T)``) so that
  "90 % sure" is right about 9 times in 10. One temperature cannot serve both the clips the
  model knows well (where it is nearly always right) and recordings of samples it has never
  heard (where it is often wrong): fitted on the second it makes the first read 10 % sure.
  So the temperature grows with how badly the best prototype explains the clip,
  ``T(x) = T0 * exp(slope * (log best error - centre))`` (:func:`clip_temperature`), fitted by
  likelihood on held-out clips of the training sample sets and clips of a sample set the
  model was not trained on, the two weighted equally (:func:`fit_error_temperature`).

Shapes: N clips, K prototypes, C classes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

UNLIKE = ("This does not sound like any instrument the model knows; "
          "treat the ranking with care.")
LIKE = "This sounds like the instruments the model was trained on."


SUMMARY_BANDS = 32


def spectral_summary(x: torch.Tensor, bands: int = SUMMARY_BANDS) -> torch.Tensor:
    """The shape of a clip's spectrum, whatever any model makes of it: log-mel ``x (F, T)`` or a
    batch of equal-length clips ``(B, F, T)`` -> ``(3 * bands + 2,)`` or ``(B, 3 * bands + 2)``.

    Over the sounding frames (the strongest band within 0.25 log units of the clip's loudest), with
    the mel bands averaged into ``bands`` groups: the mean level of each group less the clip's mean
    (its spectral envelope, not its loudness), each group's spread over time, its mean change from
    frame to frame, the spread across bands within a frame (averaged), and the share of frames
    that sound. Speech, noise and drums differ from a sustained instrument in all of these.

    >>> spectral_summary(torch.rand(128, 40)).shape
    torch.Size([98])
    """
    single = x.dim() == 2
    x = x.unsqueeze(0) if single else x
    x = x.float()
    level = x.amax(1)  # (B, T)
    sounding = (level >= level.amax(-1, keepdim=True) - 0.25).float()
    n = sounding.sum(-1).clamp_min(1.0)  # (B,)
    grouped = torch.nn.functional.adaptive_avg_pool1d(x.transpose(1, 2), bands).transpose(1, 2)  # (B, bands, T)
    w = sounding.unsqueeze(1)
    mean = (grouped * w).sum(-1) / n[:, None]
    spread = (((grouped - mean[..., None]) ** 2 * w).sum(-1) / n[:, None]).sqrt()
    both = (sounding[:, 1:] * sounding[:, :-1]).unsqueeze(1)
    motion = ((grouped[..., 1:] - grouped[..., :-1]).abs() * both).sum(-1) / both.sum(-1).clamp_min(1.0)
    contrast = (x.std(1) * sounding).sum(-1) / n
    out = torch.cat([mean - mean.mean(1, keepdim=True), spread, motion, contrast[:, None],
                     sounding.mean(-1, keepdim=True)], 1)
    return out[0] if single else out


def summary_names(bands: int = SUMMARY_BANDS) -> list[str]:
    """Names of :func:`spectral_summary`'s columns."""
    return ([f"{kind} {b + 1}/{bands}" for kind in ("band level", "band spread", "band motion") for b in range(bands)]
            + ["contrast", "sounding share"])


def trust_features(errors: torch.Tensor, class_errors: torch.Tensor,
                   voiced_share: torch.Tensor | None = None, summary: torch.Tensor | None = None) -> torch.Tensor:
    """The figures a trust verdict is read from: ``(N, D)``.

    ``errors (N, K)``: each prototype's reconstruction error (or distance); ``class_errors
    (N, C)``: each class's best; ``voiced_share (N,)``: share of sounding frames with a pitch
    (optional); ``summary (N, S)``: :func:`spectral_summary` of each clip (optional). Columns: log
    best error, log ratio of the runner-up class's error to the best's, the voiced share and the
    summary when given.

    >>> e = torch.tensor([[0.01, 0.04]]); trust_features(e, e).shape
    torch.Size([1, 2])
    """
    best = class_errors.min(1).values.clamp_min(1e-8)
    second = class_errors.topk(min(2, class_errors.shape[1]), largest=False).values[:, -1].clamp_min(1e-8)
    columns = [best.log(), (second / best).log()]
    if voiced_share is not None:
        columns.append(voiced_share.float())
    out = torch.stack(columns, 1).float()
    return out if summary is None else torch.cat([out, summary.float().to(out.device)], 1)


@dataclass
class TrustModel:
    """A fitted "like what the model knows" score: standardised features, logistic weights,
    and the score below which a clip is flagged."""

    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    threshold: float
    features: list[str] = field(default_factory=list)

    def score(self, features: torch.Tensor) -> torch.Tensor:
        """``(N, D)`` features -> ``(N,)`` probability-like score that the clip is known, in [0, 1].
        Columns past the fitted ones are left out (a score fitted on the model's figures alone
        reads the same columns of features that also carry the spectral summary)."""
        features = features[:, : len(self.mean)]
        z = (features - torch.tensor(self.mean)) / torch.tensor(self.std)
        return torch.sigmoid(z @ torch.tensor(self.weights) + self.bias)

    def flagged(self, features: torch.Tensor) -> torch.Tensor:
        """``(N,)`` bool: unlike anything the model knows."""
        return self.score(features) < self.threshold

    def verdict(self, features: torch.Tensor) -> dict:
        """One clip's verdict as the app shows it: ``{"familiar": bool, "sentence", "score",
        "threshold"}`` from its ``(D,)`` features (``familiar`` False: flagged)."""
        s = float(self.score(features.unsqueeze(0))[0])
        familiar = s >= self.threshold
        return {"familiar": familiar, "sentence": LIKE if familiar else UNLIKE, "score": round(s, 4),
                "threshold": round(self.threshold, 4)}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrustModel":
        return cls(**d)


def fit_trust(known: torch.Tensor, unknown: torch.Tensor, flag_rate: float = 0.03,
              names: list[str] | None = None) -> TrustModel:
    """Fit the trust score on ``known (N1, D)`` (held-out clips of the classes) against
    ``unknown (N2, D)`` (sounds that are no class); the threshold flags ``flag_rate`` of the
    known clips.

    >>> g = torch.Generator().manual_seed(0)
    >>> m = fit_trust(torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 3)
    >>> float(m.flagged(torch.tensor([[3.0, 3.0]]))[0])
    1.0
    """
    from sklearn.linear_model import LogisticRegression

    X = torch.cat([known, unknown]).numpy().astype(np.float64)
    y = np.r_[np.ones(len(known)), np.zeros(len(unknown))]
    mean, std = X.mean(0), X.std(0) + 1e-6
    Z = (X - mean) / std
    C = choose_regularisation(Z, y)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(Z, y)
    # Six significant digits: the bundle stays small; the threshold is set on the stored figures.
    model = TrustModel(significant(mean), significant(std), significant(clf.coef_[0]),
                       float(significant([clf.intercept_[0]])[0]), 0.5, list(names or []))
    scores = model.score(known).numpy()
    model.threshold = float(np.quantile(scores, flag_rate))
    return model


def significant(values, digits: int = 6) -> list[float]:
    """``values`` as floats rounded to ``digits`` significant digits."""
    return [float(f"{float(v):.{digits}g}") for v in values]


def choose_regularisation(Z: np.ndarray, y: np.ndarray, Cs=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0), folds: int = 5) -> float:
    """The inverse regularisation strength ``C`` of a class-balanced logistic regression with the
    lowest held-out log loss over ``folds`` stratified folds of ``Z (N, D)``, ``y (N,)`` (1.0 when
    a class has too few clips to fold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    folds = min(folds, int(np.bincount(y.astype(int)).min()))
    if folds < 2:
        return 1.0
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(Z, y))

    def loss(C: float) -> float:
        total = 0.0
        for train, held in splits:
            clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(Z[train], y[train])
            total += log_loss(y[held], clf.predict_proba(Z[held])[:, 1], labels=[0, 1])
        return total

    return float(min(Cs, key=loss))


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The temperature ``T`` that makes ``softmax(logits / T)`` most likely on ``(N, C)``
    logits with true classes ``targets (N,)`` (a search over log T, then refined).

    >>> g = torch.Generator().manual_seed(0)
    >>> y = torch.randint(3, (500,), generator=g)
    >>> logits = 10 * torch.nn.functional.one_hot(y, 3).float() + 8 * torch.randn(500, 3, generator=g)
    >>> fit_temperature(logits, y) > 1
    True
    """
    logits = logits.double()

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits / math.exp(log_t), targets))

    grid = np.linspace(math.log(0.05), math.log(100.0), 120)
    best = min(grid, key=nll)
    step = grid[1] - grid[0]
    fine = np.linspace(best - step, best + step, 41)
    return float(math.exp(min(fine, key=nll)))


def clip_temperature(class_errors: torch.Tensor, temperature: float = 1.0, slope: float = 0.0,
                     centre: float = 0.0) -> torch.Tensor:
    """Each clip's calibration temperature from how well it was explained: ``class_errors (..., C)``
    -> ``(..., 1)``, ``temperature * exp(slope * (log best error - centre))``. With ``slope`` 0 it
    is the one ``temperature`` for every clip.

    >>> clip_temperature(torch.tensor([[0.01, 0.02], [0.1, 0.2]]), 2.0, 1.0, math.log(0.01)).squeeze(1).tolist()
    [2.0, 20.0]
    """
    if not slope:
        return class_errors.new_full((*class_errors.shape[:-1], 1), float(temperature))
    log_best = class_errors.amin(-1, keepdim=True).clamp_min(1e-8).log()
    return temperature * torch.exp((slope * (log_best - centre)).clamp(-10.0, 10.0))


def fit_error_temperature(logits: list[torch.Tensor], class_errors: list[torch.Tensor],
                          targets: list[torch.Tensor], centre: float) -> tuple[float, float]:
    """``(temperature, slope)`` of :func:`clip_temperature` that make ``softmax(logits / T(x))``
    most likely, each group of clips weighing the same whatever its size.

    ``logits``, ``class_errors``: ``[(N_g, C)]`` per group (e.g. held-out clips of the training
    sample sets, and clips of an unheard sample set); ``targets`` ``[(N_g,)]``; ``centre``: the
    log best error at which ``T`` is ``temperature`` (e.g. the median of the known clips).

    >>> g = torch.Generator().manual_seed(0)
    >>> y = torch.randint(3, (400,), generator=g)
    >>> easy = 10 * torch.nn.functional.one_hot(y, 3).float()   # always right
    >>> hard = 10 * torch.nn.functional.one_hot(torch.randint(3, (400,), generator=g), 3).float()  # a guess
    >>> errors = [torch.full((400, 3), 0.01), torch.full((400, 3), 0.1)]
    >>> t0, slope = fit_error_temperature([easy, hard], errors, [y, y], math.log(0.01))
    >>> slope > 1
    True
    """
    from scipy.optimize import minimize

    groups = [(z.double(), e.double().amin(1).clamp_min(1e-8).log() - centre, y)
              for z, e, y in zip(logits, class_errors, targets) if len(y)]

    def nll(params) -> float:
        log_t, slope = params
        total = 0.0
        for z, u, y in groups:
            t = torch.exp(torch.clamp(log_t + slope * u, -10.0, 10.0)).unsqueeze(1)
            total += float(torch.nn.functional.cross_entropy(z / t, y))
        return total / len(groups)

    start = min(((lt, 0.0) for lt in np.linspace(math.log(0.05), math.log(100.0), 40)), key=nll)
    best = minimize(nll, np.array(start), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-7})
    return float(math.exp(best.x[0])), float(best.x[1])


def expected_calibration_error(probs: torch.Tensor, targets: torch.Tensor, n_bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over ``n_bins`` equal-width
    confidence bins weighted by their share of clips. ``probs (N, C)``, ``targets (N,)``.

    >>> expected_calibration_error(torch.tensor([[0.9, 0.1], [0.9, 0.1]]), torch.tensor([0, 1]))
    0.4
    """
    confidence, predicted = probs.max(1)
    correct = (predicted == targets).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence.double() > lo) & (confidence.double() <= hi)
        if inside.any():
            ece += float(inside.double().mean()) * abs(float(confidence[inside].double().mean() - correct[inside].mean()))
    return round(ece, 6)
