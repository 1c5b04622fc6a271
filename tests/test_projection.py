"""Maps of an embedding space (models/embeddings/projection.py): PCA and UMAP layouts, kept as
arrays, and new vectors placed with the fitted transform."""
import numpy as np
import pytest

from auralens.models.embeddings.projection import (Projection, ProjectionUnavailable, fit_projection,
                                                   membership_weights, umap_available)


def unit_rows(n: int, d: int, seed: int = 0, centre=None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) + (0 if centre is None else centre)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_pca_places_new_vectors_by_the_same_linear_map_as_the_fitted_ones():
    v = unit_rows(60, 12)
    p = fit_projection(v[:50], "pca")
    assert np.allclose(p.transform(v[:50]), p.positions, atol=1e-5)
    expected = (v[50:] - p.arrays["mean"]) @ p.arrays["components"].T
    assert np.allclose(p.transform(v[50:]), expected, atol=1e-6)


def test_pca_axes_run_along_the_largest_variation_and_say_how_much_of_it():
    rng = np.random.default_rng(1)
    x = np.zeros((200, 5), np.float32)
    x[:, 3] = rng.normal(size=200) * 10  # most variation along dimension 3, then 1
    x[:, 1] = rng.normal(size=200) * 3
    p = fit_projection(x, "pca")
    assert np.abs(p.arrays["components"][0]).argmax() == 3 and np.abs(p.arrays["components"][1]).argmax() == 1
    assert p.arrays["explained"][0] > 0.8 and p.arrays["explained"].sum() == pytest.approx(1.0, abs=1e-3)


def test_the_same_vectors_give_the_same_pca_map_however_they_are_ordered():
    v = unit_rows(40, 8, seed=2)
    order = np.random.default_rng(3).permutation(40)
    a, b = fit_projection(v, "pca"), fit_projection(v[order], "pca")
    assert np.allclose(a.positions[order], b.positions, atol=1e-5)  # signs fixed, not left to chance


def test_a_saved_projection_reads_back_and_places_alike(tmp_path):
    v = unit_rows(30, 6, seed=4)
    p = fit_projection(v, "pca")
    p.save(tmp_path / "map.safetensors")
    q = Projection.load(tmp_path / "map.safetensors")
    assert q.method == "pca" and np.array_equal(q.positions, p.positions)
    assert np.allclose(q.transform(v[:4]), p.transform(v[:4]))


def test_too_few_clips_or_an_unknown_method_is_refused_with_a_sentence():
    with pytest.raises(ProjectionUnavailable, match="at least 5 clips"):
        fit_projection(unit_rows(3, 6), "umap")
    with pytest.raises(ProjectionUnavailable, match="no map method 'tsne'"):
        fit_projection(unit_rows(10, 6), "tsne")


def test_membership_weights_sum_to_log2_k_and_fall_with_distance():
    d = np.sort(np.random.default_rng(5).uniform(0, 2, size=(20, 15)), axis=1)
    w = membership_weights(d)
    assert np.allclose(w.sum(1), np.log2(15), atol=1e-3)
    assert (np.diff(w, axis=1) <= 1e-9).all() and np.allclose(w[:, 0], 1.0)


@pytest.mark.skipif(not umap_available(), reason="needs umap-learn")
def test_umap_places_a_new_vector_among_the_fitted_clips_it_resembles():
    a, b = unit_rows(40, 10, seed=6, centre=np.r_[4.0, np.zeros(9)]), unit_rows(40, 10, seed=7, centre=np.r_[0, 4.0, np.zeros(8)])
    p = fit_projection(np.vstack([a, b]), "umap")
    ca, cb = p.positions[:40].mean(0), p.positions[40:].mean(0)
    new = p.transform(unit_rows(5, 10, seed=8, centre=np.r_[4.0, np.zeros(9)]))
    assert (np.linalg.norm(new - ca, axis=1) < np.linalg.norm(new - cb, axis=1)).all()
