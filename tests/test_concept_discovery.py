"""Unsupervised concept discovery (NMF of a layer's activations) on a model with known behaviour."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from auralens.models.concepts.discovery import discover_concepts, _time_stride
from auralens.models.concepts.hooks import LayerError

from .concept_models import N_FRAMES, PLANTED, random_clips, train_planted_cnn

BURST = (8, 16)  # frames where the planted stripe sounds in the discovery clips


@pytest.fixture(scope="module")
def cnn():
    return train_planted_cnn(seed=0, n=120, steps=80)


def burst_clips(n: int, g: torch.Generator) -> torch.Tensor:
    """Random clips with the planted stripe only in frames ``BURST``."""
    x = random_clips(n, g)
    for i in range(n):
        b = int(torch.randint(PLANTED[0], PLANTED[1] - 1, (1,), generator=g))
        x[i, b:b + 2, BURST[0]:BURST[1]] += 3.0  # louder than any distractor
    return x


@pytest.fixture(scope="module")
def found(cnn):
    g = torch.Generator().manual_seed(3)
    clips = torch.cat([burst_clips(20, g), random_clips(20, g)])
    labels = [0] * 20 + [1] * 20
    fractions = []
    result = discover_concepts(cnn, "relu1", clips, labels, rank=4, seed=0, progress=fractions.append)
    return result, labels, fractions


def _planted_component(result):
    """The component that most raises class 0."""
    return max(result.components, key=lambda c: c["sensitivity"]["0"]["mean"])


def test_reconstruction_keeps_the_decisions(found):
    result, _, _ = found
    assert result.fidelity >= 0.9
    assert 0 <= result.relative_error < 0.5


def test_a_component_finds_the_planted_burst_in_time_and_frequency(found):
    result, labels, _ = found
    comp = _planted_component(result)
    assert comp["sensitivity"]["0"]["positive_fraction"] >= 0.9
    excerpts = comp["excerpts"]
    assert all(labels[e["clip"]] == 0 for e in excerpts)  # its best clips hold the burst
    for e in excerpts:
        assert BURST[0] - 2 <= e["start_frame"] and e["end_frame"] <= BURST[1] + 2
        assert e["start_s"] == pytest.approx(e["start_frame"] * 512 / 22_050, abs=1e-3)
        presence = np.array(e["presence"])  # (frequency rows, frames)
        assert presence.shape == (comp["frequency_rows"], N_FRAMES)
        band = int(np.argmax(presence.max(1)))
        assert PLANTED[0] - 2 <= band < PLANTED[1] + 1


def test_the_component_the_decisions_need_most_separates_the_classes(found):
    result, _, _ = found
    needed = min(result.components, key=lambda c: c["fidelity_without"])
    assert needed["fidelity_without"] < result.fidelity  # removing it flips decisions
    s0, s1 = needed["sensitivity"]["0"]["mean"], needed["sensitivity"]["1"]["mean"]
    assert s0 * s1 < 0  # it pushes one class up and the other down


def test_result_is_json_ready(found):
    result, _, _ = found
    d = json.loads(json.dumps(result.to_dict()))
    assert len(d["components"]) == 4 and d["classes"] == [0, 1]


def test_progress_climbs_to_one(found):
    _, _, fractions = found
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_same_seed_finds_the_same_components(cnn):
    g = torch.Generator().manual_seed(4)
    clips = torch.cat([burst_clips(10, g), random_clips(10, g)])
    labels = [0] * 10 + [1] * 10
    a = discover_concepts(cnn, "relu1", clips, labels, rank=3, seed=1).to_dict()
    b = discover_concepts(cnn, "relu1", clips, labels, rank=3, seed=1).to_dict()
    a.pop("timings"), b.pop("timings")
    assert a == b


def test_layer_with_negative_values_is_refused_naming_relu_layers(cnn):
    g = torch.Generator().manual_seed(5)
    clips = torch.cat([burst_clips(4, g), random_clips(4, g)])
    with pytest.raises(LayerError, match="relu1, relu2"):
        discover_concepts(cnn, "conv1", clips, [0] * 4 + [1] * 4, rank=3)


def test_clips_of_a_single_class_are_refused(cnn):
    g = torch.Generator().manual_seed(6)
    clips = random_clips(8, g)
    with pytest.raises(ValueError, match="two classes"):
        discover_concepts(cnn, "relu1", clips, [0] * 8, rank=3)


def test_a_rank_outside_3_to_10_is_refused(cnn):
    g = torch.Generator().manual_seed(6)
    clips = random_clips(8, g)
    with pytest.raises(ValueError, match="between 3 and 10"):
        discover_concepts(cnn, "relu1", clips, [0, 1] * 4, rank=12)


def test_a_layers_time_stride_is_input_frames_per_layer_frame_after_padding():
    assert _time_stride(87, 6) == 16  # 87 frames padded to 96, halved 4 times
    assert _time_stride(87, 96) == 1
    assert _time_stride(90, 30) == 3  # stride 3: spread evenly
