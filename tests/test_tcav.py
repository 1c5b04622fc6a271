"""The five sanity checks of TCAV (design note concepts.md), on models with known behaviour."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from auralens.models.concepts import ConceptCache, TCAVConfig, hear_concept, record_layers, replace_layer, run_tcav
from auralens.models.concepts.hooks import LayerError

from .concept_models import BandBlind, add_stripes, planted_clips, random_clips, train_planted_cnn

LAYER = "relu1"


@pytest.fixture(scope="module")
def cnn():
    """Class 0 = "the planted stripe is there"; trained on the fly (a few seconds)."""
    return train_planted_cnn(seed=0, n=120, steps=80)


def sets(seed: int, n_random: int = 20, size: int = 20):
    g = torch.Generator().manual_seed(seed)
    randoms = [random_clips(size, g) for _ in range(n_random)]
    return g, randoms, {0: planted_clips(30, g)}


def test_planted_concept_scores_high_and_is_significant(cnn):
    g, randoms, targets = sets(100)
    concept = planted_clips(20, g)  # fresh clips, never seen in training
    row = run_tcav(cnn, LAYER, {"planted": concept}, randoms, targets).row("planted", LAYER, 0)
    assert np.mean(row.tcav) >= 0.9
    assert row.significant and row.direction == "+"
    assert np.mean(row.cav_accuracy) >= 0.8
    assert row.p_adjusted < 0.05 and row.p_set_adjusted < 0.05


def test_random_concept_is_not_significant_and_cav_is_at_chance(cnn):
    g, randoms, targets = sets(101)
    held_out = random_clips(20, g)
    row = run_tcav(cnn, LAYER, {"random": held_out}, randoms, targets).row("random", LAYER, 0)
    assert not row.significant
    assert abs(np.mean(row.cav_accuracy) - 0.5) < 0.12


def test_random_concepts_are_rarely_significant_over_many_draws(cnn):
    """The set-level guard keeps the false-positive rate near the nominal 5 %."""
    hits = 0
    for seed in range(8):
        g, randoms, targets = sets(200 + seed, n_random=12, size=12)
        row = run_tcav(cnn, LAYER, {"r": random_clips(12, g)}, randoms, targets,
                       TCAVConfig(seed=seed)).row("r", LAYER, 0)
        hits += row.significant
    assert hits <= 1


def test_decodable_but_unused_band_is_not_significant():
    model = BandBlind(seed=0)  # scores read bands < 16 only
    g = torch.Generator().manual_seed(7)
    randoms = [random_clips(20, g) for _ in range(20)]
    concept = add_stripes(random_clips(20, g), (24, 30), g)  # lives in bands the scores ignore
    result = run_tcav(model, "features", {"high band": concept}, randoms, {0: random_clips(30, g)})
    row = result.row("high band", "features", 0)
    assert np.mean(row.cav_accuracy) >= 0.9
    assert not row.significant


def test_directional_derivative_matches_central_finite_difference(cnn):
    model = copy.deepcopy(cnn).double()
    g, randoms, targets = sets(102, n_random=4, size=20)
    x = targets[0][:8].double()
    result = run_tcav(model, LAYER, {"planted": planted_clips(20, g)}, randoms, {0: x},
                      TCAVConfig(runs=4, null_runs=4))
    v = result.directions[("planted", LAYER)].double()  # (D,)
    with record_layers(model, [LAYER]) as seen:
        x_req = x.clone()
        score = model(x_req)[:, 0].sum()
        h = seen[LAYER]
        grad = torch.autograd.grad(score, h)[0]  # (B, 8, F, T)
    analytic = grad.flatten(1) @ v  # (B,)

    eps = 1e-4
    def score_at(sign):
        with torch.no_grad(), replace_layer(model, LAYER, lambda h: h + sign * eps * v.view(h.shape[1:])):
            return model(x)[:, 0]
    numeric = (score_at(+1) - score_at(-1)) / (2 * eps)
    assert torch.allclose(analytic, numeric, rtol=0.05, atol=1e-9)
    assert analytic.abs().min() > 1e-6  # a real derivative, not two zeros


def test_swapping_concept_and_random_gives_complementary_scores(cnn):
    g, _, targets = sets(103)
    a, b = planted_clips(20, g), random_clips(20, g)
    other = [random_clips(20, g), random_clips(20, g)]  # for the null runs only
    cfg = TCAVConfig(runs=5, null_runs=6)
    ab = run_tcav(cnn, LAYER, {"a": a}, [b] * 5 + other, targets, cfg).row("a", LAYER, 0)
    ba = run_tcav(cnn, LAYER, {"b": b}, [a] * 5 + other, targets, cfg).row("b", LAYER, 0)
    np.testing.assert_allclose(np.array(ab.tcav) + np.array(ba.tcav), 1.0)
    np.testing.assert_allclose(ab.magnitude, -np.array(ba.magnitude), atol=1e-6)
    np.testing.assert_allclose(ab.cav_accuracy, ba.cav_accuracy)


def test_same_seed_gives_identical_output(cnn):
    g, randoms, targets = sets(104, n_random=6, size=20)
    concept = planted_clips(20, g)
    cfg = TCAVConfig(runs=6, seed=5)
    first = run_tcav(cnn, LAYER, {"c": concept}, randoms, targets, cfg).to_dict()
    second = run_tcav(cnn, LAYER, {"c": concept}, randoms, targets, cfg).to_dict()
    first.pop("timings"), second.pop("timings")
    assert first == second


def test_another_seed_gives_other_runs(cnn):
    g, randoms, targets = sets(104, n_random=6, size=20)
    concept = planted_clips(20, g)
    first = run_tcav(cnn, LAYER, {"c": concept}, randoms, targets, TCAVConfig(runs=6, seed=5)).to_dict()
    other = run_tcav(cnn, LAYER, {"c": concept}, randoms, targets, TCAVConfig(runs=6, seed=6)).to_dict()
    assert other["results"][0]["cav_accuracy"]["runs"] != first["results"][0]["cav_accuracy"]["runs"]


def test_changed_clips_under_the_same_name_change_the_result(cnn):
    g, randoms, targets = sets(105, n_random=6, size=20)
    cache = ConceptCache()
    cfg = TCAVConfig(runs=6)
    before = run_tcav(cnn, LAYER, {"c": planted_clips(20, g)}, randoms, targets, cfg, cache=cache)
    again = run_tcav(cnn, LAYER, {"c": random_clips(20, g)}, randoms, targets, cfg, cache=cache)
    assert again.cache["cavs"] == len(again.null_pairs)  # only the null CAVs came from the cache
    assert again.row("c", LAYER, 0).cav_accuracy != before.row("c", LAYER, 0).cav_accuracy
    assert np.mean(again.row("c", LAYER, 0).tcav) < np.mean(before.row("c", LAYER, 0).tcav)


@pytest.fixture(scope="module")
def two_of_each(cnn):
    """TCAV of 2 concepts at 2 layers for 2 classes, 4 runs: the result as JSON and the progress
    fractions it reported."""
    g, randoms, targets = sets(106, n_random=4, size=20)
    targets[1] = random_clips(30, g)
    fractions = []
    result = run_tcav(cnn, [LAYER, "relu2"], {"p": planted_clips(20, g), "q": random_clips(20, g)}, randoms,
                      targets, TCAVConfig(runs=4), progress=fractions.append)
    return json.loads(json.dumps(result.to_dict())), fractions


def test_result_is_json_ready_with_a_row_per_concept_layer_and_class(two_of_each):
    d, _ = two_of_each
    assert d["n_tests"] == 2 * 2 * 2 and len(d["results"]) == 8


def test_p_values_are_bonferroni_adjusted_over_all_tests(two_of_each):
    d, _ = two_of_each
    row = d["results"][0]
    assert row["p_adjusted"] == pytest.approx(min(1.0, row["p"] * 8))


def test_fewer_than_twenty_runs_are_warned_about(two_of_each):
    d, _ = two_of_each
    assert any("fewer than 20" in w for w in d["results"][0]["warnings"])  # 4 runs


def test_progress_climbs_to_one(two_of_each):
    _, fractions = two_of_each
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_result_times_each_step(two_of_each):
    d, _ = two_of_each
    assert set(d["timings"]) >= {"activations", "cavs", "gradients", "stats", "total"}


def test_hear_the_concept_ranks_clips_with_the_concept_first(cnn):
    g, randoms, targets = sets(107, n_random=6, size=20)
    result = run_tcav(cnn, LAYER, {"p": planted_clips(20, g)}, randoms, targets, TCAVConfig(runs=6))
    corpus = torch.cat([random_clips(10, g), planted_clips(5, g)])  # planted ones at 10..14
    top = hear_concept(cnn, LAYER, result.directions[("p", LAYER)], corpus, top=5)
    assert {t["index"] for t in top} == set(range(10, 15))


def test_a_layer_with_a_tuple_output_is_refused_with_the_valid_names():
    class TwoOut(torch.nn.Module):
        def forward(self, x):
            return x, x

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.split = TwoOut()
            self.lin = torch.nn.Linear(24, 2)

        def forward(self, x):
            return self.lin(self.split(x)[0]).mean(1)

    g = torch.Generator().manual_seed(0)
    with pytest.raises(LayerError, match="lin"):
        run_tcav(Net(), "split", {"c": random_clips(20, g)}, [random_clips(20, g)] * 2, {0: random_clips(30, g)})
    with pytest.raises(LayerError, match="no layer 'nope'"):
        run_tcav(Net(), "nope", {"c": random_clips(20, g)}, [random_clips(20, g)] * 2, {0: random_clips(30, g)})
