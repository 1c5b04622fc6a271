"""The latent prototype model: autoencoder, prototypes in its space, sonification, bundle, evaluate."""
import json

import numpy as np
import pytest
import torch

from auralens.models.audio import AudioConfig
from auralens.models.bundle import Bundle, ModelEntry, load_bundle, nearest_clip_audio, read_nearest_clips
from auralens.models.weights import write_weights
from auralens.models.data import load_features, read_collection
from auralens.models.evaluate import evaluate_model
from auralens.models.latent.analysis import timeline
from auralens.models.latent.evaluate import reconstruction_errors
from auralens.models.latent.model import KIND, LatentConfig, LatentPrototypeModel
from auralens.models.latent.sonify import prototype_audio, prototype_log_mel
from auralens.models.latent.train import (History, LatentTrainConfig, fit_standardisation, frozen_logits,
                                                 fit_latent_prototypes, init_prototypes, prototype_loss)
from auralens.models.training.latent import by_split
from auralens.server.cli import main

from .helpers import one_torch_thread
from .small_models import LATENT_SMALL
from .sounds import TIMBRES


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small convolutions run several times faster on one thread than on two busy cores."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def trained(latent_bundle):
    """The small latent model of three timbres in its bundle (see ``latent_bundle``), and the
    features of every split of its data."""
    root, out, entry, cache = latent_bundle
    feats = by_split(load_features(read_collection(root), AudioConfig(), sorted(TIMBRES), cache_dir=cache,
                                    progress=False))
    return root, out, entry, feats


def small_model(n_classes=3, ppc=2, **kw) -> LatentPrototypeModel:
    cfg = LatentConfig(n_classes=n_classes, protos_per_class=ppc, frames=44, **{**LATENT_SMALL, **kw})
    return LatentPrototypeModel(cfg)


def test_forward_gives_class_scores_and_prototype_similarities_for_any_length():
    model = small_model().eval()
    for T in (5, 44, 200):
        out = model(torch.rand(2, 128, T))
        assert out.scores.shape == (2, 3) and out.logits.shape == (2, 3)
        assert torch.allclose(out.scores.sum(1), torch.ones(2))
        assert out.similarities.shape == (2, 6) and out.distances.shape == (2, 6)
        assert torch.allclose(out.similarities, torch.exp(-out.distances))
        assert ((out.similarities > 0) & (out.similarities <= 1)).all()
    assert model.reconstruct(torch.rand(2, 128, 200)).shape == (2, 128, 44)


def test_a_long_clip_gets_a_timeline_of_windows_and_a_short_one_a_single_window():
    model = small_model().eval()
    x = torch.rand(128, 200)
    tl = timeline(model, x, frame_seconds=0.5)
    # windows of 44 frames every 22, and one that ends with the clip (frame 156)
    assert tl.times_s.tolist() == [0.0, 11.0, 22.0, 33.0, 44.0, 55.0, 66.0, 77.0, 78.0]
    assert tl.similarities.shape == (9, 6) and tl.scores.shape == (9, 3)
    assert torch.allclose(tl.scores[2], model(x[None, :, 44:88]).scores[0])
    assert timeline(model, x[:, :30], 0.5).scores.shape == (1, 3)


def test_classifier_starts_as_the_one_hot_prototype_to_class_map():
    model = small_model()
    assert model.classifier.weight.tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]]


def test_logits_are_the_classified_similarities_over_the_temperature():
    model = small_model()
    s = torch.randn(4, LATENT_SMALL["latent_dim"])
    out = model.classify(s)
    assert torch.allclose(out.logits, out.similarities @ model.classifier.weight.T / 0.1)


def test_prototypes_start_at_per_class_kmeans_centres_of_standardised_embeddings(trained):
    _, _, _, feats = trained
    model = small_model()
    S = fit_standardisation(model, feats["train"], "cpu")
    assert torch.allclose(S.mean(0), torch.zeros(S.shape[1]), atol=1e-4)
    assert torch.allclose(S.std(0), torch.full((S.shape[1],), 0.5), atol=1e-3)  # (z - mu) / (2 sigma)
    y = feats["train"].targets
    init_prototypes(model, S, y, seed=0)
    P = model.prototypes.detach()
    for c in range(3):  # a k-means centre is the mean of the class's clips nearest to it
        members = S[y == c]
        own = P[2 * c:2 * c + 2]
        nearest = torch.cdist(members, own).argmin(1)
        for j in range(2):
            assert torch.allclose(own[j], members[nearest == j].mean(0), atol=1e-3)


def test_prototype_loss_is_the_distance_to_the_nearest_clip_of_the_prototypes_class():
    distances = torch.tensor([[0.5, 2.0, 0.1], [0.2, 1.0, 3.0], [0.9, 0.4, 0.3]])
    y = torch.tensor([0, 0, 1])
    prototype_class = torch.tensor([0, 1, 2])  # class 2 has no clip in the batch: left out
    assert float(prototype_loss(distances, y, prototype_class)) == pytest.approx((0.2 + 0.4) / 2)


def test_the_prototype_loss_brings_prototypes_to_their_class_data():
    gen = torch.Generator().manual_seed(0)
    centres = 1.5 * torch.randn(3, 8, generator=gen)
    y = torch.arange(3).repeat_interleave(40)
    S = centres[y] + 0.2 * torch.randn(120, 8, generator=gen)

    def trained_gap(alpha):
        model = small_model(latent_dim=8)
        with torch.no_grad():  # start every prototype far from all data, on its own class's side
            model.prototypes.copy_(centres.repeat_interleave(2, 0) * 4)
        cfg = LatentTrainConfig(alpha=alpha, proto_epochs=40, proto_patience=40, proto_lr=0.05, proto_batch_size=16)
        fit_latent_prototypes(model, S, y, S[:0], y[:0], cfg, History(), torch.Generator().manual_seed(0), False)
        d = torch.cdist(model.prototypes.detach(), S).pow(2) / 8  # mean squared difference
        own = y.unsqueeze(0) == model.prototype_class.unsqueeze(1)
        return float(d.masked_fill(~own, float("inf")).min(1).values.mean())

    with_lp, without = trained_gap(0.75), trained_gap(0.0)
    assert with_lp < 0.25 * without and with_lp < 0.5


def test_the_decoders_class_term_never_trains_the_encoder_on_decoded_sound():
    model, head = small_model().train(), torch.nn.Linear(LATENT_SMALL["latent_dim"], 3)
    x = torch.rand(4, 128, 44, requires_grad=True)
    running = model.encoder.inp[2].running_mean.clone()
    torch.nn.functional.cross_entropy(frozen_logits(model, head, x), torch.tensor([0, 1, 2, 0])).backward()
    assert all(p.grad is None for p in [*model.encoder.parameters(), *head.parameters()])
    assert x.grad is not None and x.grad.abs().sum() > 0  # it reaches the decoded clip
    assert torch.equal(model.encoder.inp[2].running_mean, running) and model.encoder.training


def test_training_separates_three_timbres_as_the_bundle_records(trained):
    _, out, entry, feats = trained
    metrics = evaluate_model(load_bundle(out).load_model("latent"), feats["test"])
    assert metrics["oa"] >= 0.9 and metrics["oa"] == pytest.approx(entry.metrics["oa"])


def test_the_trained_decoder_beats_the_mean_clip_as_the_bundle_records(trained):
    _, out, entry, feats = trained
    model = load_bundle(out).load_model("latent")
    metrics = evaluate_model(model, feats["test"])
    test = torch.stack([f.float() for f in feats["test"].features])
    mean_clip = torch.stack([f.float() for f in feats["train"].features]).mean(0)
    baseline = float((test - mean_clip).pow(2).mean())
    assert float(reconstruction_errors(model, feats["test"].features).mean()) < 0.9 * baseline
    assert entry.metrics["reconstruction_error"] == pytest.approx(metrics["reconstruction_error"])


def test_a_sonified_prototype_has_the_decoders_shape_and_finite_sound(trained):
    _, out, _, _ = trained
    model = load_bundle(out).load_model("latent")
    spec = prototype_log_mel(model, 3)
    assert spec.shape == (128, model.cfg.frames) and torch.isfinite(spec).all() and (spec >= 0).all()
    assert prototype_log_mel(model).shape == (6, 128, model.cfg.frames)
    audio = prototype_audio(model, 3, n_iter=4)
    assert audio.shape == (AudioConfig().n_samples(model.cfg.frames),)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-4


def test_each_prototype_has_its_nearest_training_clip_stored_as_sound(trained):
    root, out, entry, feats = trained
    clips = read_nearest_clips(out, "latent")
    assert [c.prototype for c in clips] == list(range(6))
    train_sources = {str(r.path.relative_to(root)) for r in feats["train"].records}
    for c in clips:
        assert c.source in train_sources and c.split == "train"
        assert (out / c.file).suffix == ".flac" and nearest_clip_audio(out, c).size > 0
    assert sum(c.clip_label == c.label for c in clips) >= 5  # a prototype's nearest clip is of its class


def test_a_latent_model_survives_a_bundle_round_trip(tmp_path):
    model = small_model().eval()
    with torch.no_grad():
        model.prototypes.normal_()
        model.z_mean.normal_()
    write_weights(tmp_path / "models/m/model.safetensors", model.state_dict())
    bundle = Bundle(path=tmp_path, name="t", audio=AudioConfig(), classes=["a", "b", "c"], models={
        "m": ModelEntry(id="m", kind=KIND, config=model.cfg.to_dict(), weights="models/m/model.safetensors")})
    bundle.save()
    loaded = load_bundle(tmp_path).load_model("m")
    x = torch.rand(2, 128, 60)
    assert isinstance(loaded, LatentPrototypeModel) and not loaded.training
    assert torch.equal(loaded(x).logits, model(x).logits)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))


def test_evaluate_prints_the_latent_models_metrics_as_json(trained, capsys):
    root, out, entry, _ = trained
    assert main(["evaluate", "--bundle", str(out), "--data", str(root), "--model", "latent", "--json",
                 "--quiet"]) == 0
    m = json.loads(capsys.readouterr().out)
    everything = load_features(read_collection(root), AudioConfig(), sorted(TIMBRES), progress=False,
                               cache_dir=out.parent / "cache")  # a plain folder is evaluated whole
    expected = evaluate_model(load_bundle(out).load_model("latent"), everything)
    assert m["model"] == "latent" and m["n"] == 3 * 40
    assert m["oa"] == pytest.approx(expected["oa"]) and m["aa"] == pytest.approx(expected["aa"])
    assert m["reconstruction_error"] > 0 and set(m["per_class"]) == set(TIMBRES)
    assert 0 <= m["decoded"]["oa"] <= 1


def test_the_bundle_records_the_latent_models_metrics_and_card(trained):
    _, out, entry, _ = trained
    bundle = load_bundle(out)
    assert bundle.models["latent"].kind == KIND and bundle.models["latent"].weights.endswith(".safetensors")
    m = bundle.models["latent"].metrics
    for key in ("oa", "aa", "reconstruction_error", "train_reconstruction_error", "embedding_probe_oa"):
        assert key in m
    assert {"oa", "aa", "reconstruction_error"} <= set(m["decoded"])
    assert KIND in (out / "MODEL_CARD.md").read_text()


def test_train_latent_reports_a_bad_collection_in_one_line(tmp_path, capsys):
    assert main(["train", "latent", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "b"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("auralens: error:") and "\n" not in err
