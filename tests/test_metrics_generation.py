"""Generation metrics against independent computations (tslearn, scipy, POT) and their
expected behaviour on identical, shifted, scaled and noisier sets."""

from __future__ import annotations

import numpy as np
import ot
import pytest
from scipy.signal import welch
from scipy.spatial.distance import cdist, jensenshannon, pdist
from scipy.stats import wasserstein_distance
from tslearn.metrics import dtw as tslearn_dtw

from ecgbench.errors import DataError
from ecgbench.metrics import generation as g
from ecgbench.metrics.bootstrap import bootstrap_indices, resample_counts, rng_for
from ecgbench.metrics.dtw import dtw_pairs_1d

FS = 100.0


def beats(
    n: int, *, t: int = 300, leads: int = 3, noise: float = 0.02, seed: int = 0
) -> np.ndarray:
    """ECG-like records: P, QRS and T bumps at a random rate and phase, per-lead gain, noise."""
    rng = np.random.default_rng(seed)
    time = np.arange(t) / FS
    out = np.empty((n, leads, t), dtype=np.float32)
    for i in range(n):
        phase = np.mod(time * rng.uniform(55, 95) / 60 + rng.uniform(), 1.0)
        wave = (
            np.exp(-(((phase - 0.3) / 0.012) ** 2))
            + 0.3 * np.exp(-(((phase - 0.55) / 0.05) ** 2))
            + 0.15 * np.exp(-(((phase - 0.15) / 0.03) ** 2))
        )
        out[i] = rng.uniform(0.5, 1.5, (leads, 1)) * wave + rng.normal(0, noise, (leads, t))
    return out


def one_hot_labels(n: int) -> np.ndarray:
    """Unique label vectors, so label matching pairs record i with record i."""
    labels = np.zeros((n, 71), dtype=np.uint8)
    labels[np.arange(n), np.arange(n) % 71] = 1
    labels[np.arange(n), (np.arange(n) // 71 + 1) % 71] = 1
    return labels


# ------------------------------------------------------------------------------ DTW


@pytest.mark.parametrize("radius", [0, 3, 10, None])
def test_compiled_dtw_equals_tslearn(radius):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 60)), rng.normal(size=(4, 60))
    # a band as wide as the series is tslearn's plain DTW (one compiled tslearn signature)
    band = 60 if radius is None else radius
    expected = [tslearn_dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=band)
                for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(dtw_pairs_1d(x, y, radius), expected, rtol=1e-12, atol=1e-12)


def test_compiled_dtw_hand_computed():
    # one repeated sample costs nothing; [1, 2, 3] vs [1, 2, 2, 3, 5]: only the final 5 pays (3 - 5)^2
    x = np.array([[1.0, 2.0, 2.0, 3.0, 3.0], [1.0, 2.0, 3.0, 3.0, 3.0]])
    y = np.array([[1.0, 2.0, 3.0, 3.0, 3.0], [1.0, 2.0, 2.0, 3.0, 5.0]])
    np.testing.assert_allclose(dtw_pairs_1d(x, y, None), [0.0, 2.0])
    np.testing.assert_allclose(dtw_pairs_1d(x[:1], y[:1], 0), [1.0])  # no warping: |2 - 3| at one sample


def test_dtw_with_a_band_is_never_below_plain_dtw_and_equal_when_the_band_covers_everything():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 50)), rng.normal(size=(6, 50))
    plain = dtw_pairs_1d(x, y, None)
    assert np.all(dtw_pairs_1d(x, y, 5) >= plain - 1e-12)
    np.testing.assert_allclose(dtw_pairs_1d(x, y, 49), plain, rtol=1e-12)


def test_dtw_pairs_backends_agree():
    gen, real = beats(6, t=120, seed=1), beats(8, t=120, seed=2)
    a = g.dtw_pairs(gen, real, None, None, n_pairs=5, seed=3, backend="numba")
    b = g.dtw_pairs(gen, real, None, None, n_pairs=5, seed=3, backend="tslearn")
    np.testing.assert_array_equal(a.gen_idx, b.gen_idx)
    np.testing.assert_array_equal(a.real_idx, b.real_idx)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-9)


def test_dtw_distance_is_the_mean_of_per_lead_tslearn_dtw_over_the_pairs():
    gen, real = beats(10, t=100, seed=1), beats(12, t=100, seed=2)
    labels_g = np.zeros((10, 71), np.uint8)
    labels_r = np.zeros((12, 71), np.uint8)
    labels_g[:, 0] = labels_r[:12:2, 0] = 1
    result = g.dtw_distance(gen, real, labels_g, labels_r, n_pairs=6, window=0.1, seed=0, n_boot=50)
    pairs = g.dtw_pairs(gen, real, labels_g, labels_r, n_pairs=6, window=0.1, seed=0)
    expected = np.mean(
        [
            tslearn_dtw(
                gen[i, lead].astype(float),
                real[j, lead].astype(float),
                global_constraint="sakoe_chiba",
                sakoe_chiba_radius=10,
            )
            for i, j in zip(pairs.gen_idx, pairs.real_idx, strict=True)
            for lead in range(3)
        ]
    )
    assert result.value == pytest.approx(expected, abs=1e-6)
    assert result.params["sakoe_chiba_radius"] == 10
    assert result.params["n_pairs_used"] == 6


def test_dtw_pairs_share_the_label_vector_when_one_exists():
    gen, real = beats(20, t=60, seed=1), beats(30, t=60, seed=2)
    rng = np.random.default_rng(0)
    labels_r = (rng.random((30, 71)) < 0.05).astype(np.uint8)
    labels_g = labels_r[rng.integers(0, 30, 20)]
    pairs = g.dtw_pairs(gen, real, labels_g, labels_r, n_pairs=20)
    np.testing.assert_array_equal(labels_g[pairs.gen_idx], labels_r[pairs.real_idx])
    result = g.dtw_distance(gen, real, labels_g, labels_r, n_pairs=20, pairs=pairs, n_boot=20)
    assert result.params["label_fallbacks"] == 0


def test_dtw_falls_back_to_the_nearest_label_vector_and_counts_it():
    labels_r = np.zeros((3, 71), np.uint8)
    labels_r[0, [0, 1]] = 1
    labels_r[1, [0, 1, 2, 3]] = 1
    labels_r[2, 5] = 1
    labels_g = np.zeros((1, 71), np.uint8)
    labels_g[0, [0, 1, 2]] = 1  # Hamming 1 from records 0 and 1, 4 from record 2
    picks = {
        int(g.match_real(labels_g, labels_r, np.array([0]), 3, np.random.default_rng(s))[0])
        for s in range(20)
    }
    assert picks == {0, 1}
    gen, real = beats(1, t=50), beats(3, t=50, seed=1)
    assert g.dtw_distance(gen, real, labels_g, labels_r, n_boot=10).params["label_fallbacks"] == 1


def test_dtw_of_a_set_with_itself_is_zero_when_labels_pair_each_record_with_itself():
    x = beats(12, t=80)
    labels = one_hot_labels(12)
    assert g.dtw_distance(x, x, labels, labels, n_boot=20).value == pytest.approx(0.0, abs=1e-12)


def test_dtw_grows_with_noise():
    real = beats(20, t=150, noise=0.01, seed=1)
    labels = np.zeros((20, 71), np.uint8)
    close = g.dtw_distance(
        beats(20, t=150, noise=0.01, seed=2), real, labels, labels, n_boot=20
    ).value
    noisy = g.dtw_distance(
        beats(20, t=150, noise=0.2, seed=2), real, labels, labels, n_boot=20
    ).value
    assert noisy > close


# ---------------------------------------------------------------------- Wasserstein


@pytest.mark.parametrize("n_gen", [7, 9])
def test_amplitude_wasserstein_equals_scipy_and_pot_per_lead(n_gen):
    gen, real = beats(n_gen, t=90, seed=1), beats(9, t=90, seed=2) * 1.2
    result = g.wasserstein_amplitude(gen, real, n_boot=20)
    scipy_values = [wasserstein_distance(gen[:, k].ravel(), real[:, k].ravel()) for k in range(3)]
    pot_values = [
        float(
            ot.wasserstein_1d(
                gen[:, k].ravel().astype(float), real[:, k].ravel().astype(float), p=1
            )
        )
        for k in range(3)
    ]
    np.testing.assert_allclose(result.params["per_lead"], scipy_values, atol=1e-6)
    np.testing.assert_allclose(result.params["per_lead"], pot_values, atol=1e-6)
    assert result.value == pytest.approx(np.mean(scipy_values), abs=1e-6)


def test_amplitude_wasserstein_of_a_shifted_set_is_the_shift():
    x = beats(10, t=100)
    assert g.wasserstein_amplitude(x, x, n_boot=10).value == pytest.approx(0.0, abs=1e-12)
    assert g.wasserstein_amplitude(x, x + np.float32(0.25), n_boot=10).value == pytest.approx(
        0.25, abs=1e-6
    )


def test_amplitude_wasserstein_is_symmetric_and_grows_with_scale():
    a, b = beats(10, t=100, seed=1), beats(12, t=100, seed=2)
    assert g.wasserstein_amplitude(a, b, n_boot=10).value == pytest.approx(
        g.wasserstein_amplitude(b, a, n_boot=10).value, abs=1e-12
    )
    assert (
        g.wasserstein_amplitude(a, b * 1.5, n_boot=10).value
        > g.wasserstein_amplitude(a, b, n_boot=10).value
    )


def test_grid_wasserstein_of_the_bootstrap_is_close_to_the_exact_value():
    a, b = beats(30, t=200, seed=1)[:, 0], beats(25, t=200, seed=2)[:, 0] * 1.1
    exact = wasserstein_distance(a.ravel(), b.ravel())
    grid = g.grid_w1_batch(a, b, np.full((1, 30), 1 / 30), np.full((1, 25), 1 / 25))[0]
    assert grid == pytest.approx(exact, rel=0.01)
    counts_a = resample_counts(bootstrap_indices(30, 1, np.random.default_rng(0)), 30)
    idx_a = np.repeat(np.arange(30), counts_a[0].astype(int))
    weighted = g.grid_w1_batch(a, b, counts_a / 30, np.full((1, 25), 1 / 25))[0]
    assert weighted == pytest.approx(wasserstein_distance(a[idx_a].ravel(), b.ravel()), rel=0.01)


def test_weighted_1d_wasserstein_equals_scipy_with_weights():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=15), rng.normal(0.3, 1.2, size=11)
    wx, wy = rng.random((2, 15)), rng.random((2, 11))
    wx /= wx.sum(axis=1, keepdims=True)
    wy /= wy.sum(axis=1, keepdims=True)
    expected = [wasserstein_distance(x, y, wx[b], wy[b]) for b in range(2)]
    np.testing.assert_allclose(g._weighted_w1_batch(x, y, wx, wy), expected, atol=1e-10)


def _zscored_flat(a: np.ndarray, b: np.ndarray, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both sets z-scored per lead with the mean and SD of the reference records (default: b)."""
    ref = (b if reference is None else reference).astype(float)
    mean, sd = ref.mean(axis=(0, 2), keepdims=True), ref.std(axis=(0, 2), keepdims=True)
    return ((a - mean) / sd).reshape(len(a), -1), ((b - mean) / sd).reshape(len(b), -1)


def median_pairwise_distance(records: np.ndarray) -> float:
    return float(np.median(pdist(records)))


# ---------------------------------------------------------------- the reference space


def test_reference_space_holds_the_reference_records_lead_statistics_and_median_distances():
    ref = beats(15, t=50, seed=3) * np.float32(1.3)
    space = g.reference_space(ref, source="test records")
    np.testing.assert_allclose(space.lead_mean, ref.astype(float).mean(axis=(0, 2)), rtol=1e-9)
    np.testing.assert_allclose(space.lead_sd, ref.astype(float).std(axis=(0, 2)), rtol=1e-9)
    z, _ = _zscored_flat(ref, ref)
    assert space.bandwidth == pytest.approx(median_pairwise_distance(z), rel=1e-9)
    np.testing.assert_allclose(
        space.lead_bandwidths, [median_pairwise_distance(z[:, k * 50 : (k + 1) * 50]) for k in range(3)], rtol=1e-9
    )
    assert g.ReferenceSpace.from_params(space.to_params()) == space


def test_reference_space_takes_its_bandwidth_from_a_seeded_subsample_of_max_n_records():
    ref = beats(30, t=40, seed=4)
    space = g.reference_space(ref, max_n=10, seed=2)
    assert space.n_bandwidth_records == 10 and space.n_records == 30
    assert space == g.reference_space(ref, max_n=10, seed=2) != g.reference_space(ref, max_n=10, seed=3)


def test_the_metric_space_never_depends_on_the_generated_set():
    real, reference = beats(12, t=60, seed=1), beats(20, t=60, seed=5)
    space = g.reference_space(reference)
    for gen in (beats(10, t=60, seed=2), beats(10, t=60, seed=2) * np.float32(5.0)):
        for metric in (g.mmd(gen, real, n_boot=5, n_permutations=5, space=space),
                       g.wasserstein_waveform(gen, real, n_boot=5, space=space)):
            assert metric.params["normalisation"]["lead_mean_mv"] == list(space.lead_mean)
            assert metric.params["normalisation"]["lead_sd_mv"] == list(space.lead_sd)
        assert g.mmd(gen, real, n_boot=5, n_permutations=5).params["bandwidth"] == g.reference_space(real).bandwidth


def test_waveform_wasserstein_equals_emd_on_a_scipy_cost_matrix():
    a, b = beats(8, t=60, seed=1), beats(6, t=60, seed=2)
    x, y = _zscored_flat(a, b)
    expected = ot.emd2(np.full(8, 1 / 8), np.full(6, 1 / 6), cdist(x, y))
    result = g.wasserstein_waveform(a, b, n_boot=10)
    assert result.value == pytest.approx(expected, abs=1e-6)
    assert result.params["method"].startswith("exact")


def test_waveform_wasserstein_switches_to_sliced_above_max_exact_and_says_so():
    a, b = beats(8, t=60, seed=1), beats(6, t=60, seed=2)
    x, y = _zscored_flat(a, b)
    result = g.wasserstein_waveform(a, b, max_exact=5, n_projections=64, seed=4, n_boot=10)
    expected = ot.sliced_wasserstein_distance(x, y, n_projections=64, p=1, seed=4)
    assert result.params["method"].startswith("sliced")
    assert result.value == pytest.approx(float(expected), abs=1e-6)
    directions = ot.sliced.get_random_projections(x.shape[1], 64, seed=4)
    own = np.mean(
        [wasserstein_distance(x @ directions[:, k], y @ directions[:, k]) for k in range(64)]
    )
    assert own == pytest.approx(float(expected), abs=1e-6)


def test_waveform_wasserstein_is_zero_for_identical_sets_and_symmetric_in_one_space():
    a, b = beats(6, t=60, seed=1), beats(6, t=60, seed=2)
    space = g.reference_space(beats(10, t=60, seed=3))
    assert g.wasserstein_waveform(a, a, n_boot=5).value == pytest.approx(0.0, abs=1e-6)
    assert g.wasserstein_waveform(a, b, n_boot=5, space=space).value == pytest.approx(
        g.wasserstein_waveform(b, a, n_boot=5, space=space).value, abs=1e-9
    )


def test_waveform_wasserstein_grows_in_proportion_to_a_gain_error():
    real = beats(10, t=60, seed=1)
    values = [g.wasserstein_waveform(real * np.float32(k), real, n_boot=5).value for k in (2, 5, 20)]
    np.testing.assert_allclose(np.array(values) / values[0], [1, 4, 19], rtol=0.05)


# ------------------------------------------------------------------------------ MMD


def naive_mmd2(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Unbiased MMD² with the inverse multiquadric kernel, space and bandwidth from b."""
    x, y = _zscored_flat(a, b)
    sigma = median_pairwise_distance(y)
    z = np.concatenate([x, y])
    d = cdist(z, z)
    k = 1 / np.sqrt(1 + d**2 / sigma**2)
    n = len(x)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    off = lambda mat: mat[~np.eye(len(mat), dtype=bool)].mean()  # noqa: E731
    return float(off(kxx) + off(kyy) - 2 * kxy.mean()), float(sigma)


def test_mmd_equals_a_naive_unbiased_estimate_with_the_reference_median_bandwidth():
    a, b = beats(9, t=60, seed=1), beats(11, t=60, seed=2) * 1.3
    expected, sigma = naive_mmd2(a, b)
    result = g.mmd(a, b, n_boot=10, n_permutations=10)
    assert result.value == pytest.approx(expected, abs=1e-6)
    assert result.params["bandwidth"] == pytest.approx(sigma, rel=1e-6)


def test_mmd_permutation_p_value_equals_a_loop_over_the_same_permutations():
    a, b = beats(7, t=40, seed=1), beats(6, t=40, seed=2) + np.float32(0.1)
    result = g.mmd(a, b, n_boot=5, n_permutations=30, seed=5)
    x, y = _zscored_flat(a, b)
    z = np.concatenate([x, y])
    d2 = cdist(z, z, "sqeuclidean")
    kernel = 1 / np.sqrt(1 + d2 / result.params["bandwidth"] ** 2)
    rng = rng_for(5, "mmd_permutations")
    count = 0
    for _ in range(30):
        order = rng.permutation(13)
        member = np.zeros(13, bool)
        member[order[:7]] = True
        perm = np.concatenate([np.flatnonzero(member), np.flatnonzero(~member)])
        count += g._mmd2_from_kernel(kernel[np.ix_(perm, perm)], 7) >= result.value
    assert result.params["p_value"] == pytest.approx((1 + count) / 31)


def test_mmd_bootstrap_formula_equals_the_estimate_on_a_materialised_resample():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(12, 5))
    kernel = np.exp(-cdist(z, z, "sqeuclidean") / 4)
    idx_x, idx_y = rng.integers(0, 5, 5), 5 + rng.integers(0, 7, 7)
    cx = np.bincount(idx_x, minlength=5)[None].astype(float)
    cy = np.bincount(idx_y - 5, minlength=7)[None].astype(float)

    def within(idx):
        pairs = [(p, q) for p in range(len(idx)) for q in range(len(idx)) if idx[p] != idx[q]]
        return np.mean([kernel[idx[p], idx[q]] for p, q in pairs])

    expected = within(idx_x) + within(idx_y) - 2 * kernel[np.ix_(idx_x, idx_y)].mean()
    assert g.bootstrap_mmd2(kernel, 5, cx, cy)[0] == pytest.approx(expected, abs=1e-12)


def test_mmd_separates_a_shifted_set_and_not_a_same_distribution_set():
    real = beats(30, t=100, seed=1)
    same = g.mmd(beats(30, t=100, seed=2), real, n_boot=20, n_permutations=100)
    shifted = g.mmd(beats(30, t=100, seed=2) + np.float32(0.3), real, n_boot=20, n_permutations=100)
    assert shifted.value > same.value
    assert shifted.params["p_value"] < 0.05 < same.params["p_value"]


def test_mmd_is_symmetric_in_one_space():
    a, b = beats(10, t=60, seed=1), beats(12, t=60, seed=2)
    space = g.reference_space(beats(10, t=60, seed=3))
    assert g.mmd(a, b, n_boot=5, n_permutations=5, space=space).value == pytest.approx(
        g.mmd(b, a, n_boot=5, n_permutations=5, space=space).value, abs=1e-9
    )


def test_the_kernel_is_the_inverse_multiquadric_and_does_not_saturate():
    d2 = np.array([0.0, 1.0, 4.0, 1e4, 1e6])
    np.testing.assert_allclose(g.imq_kernel(d2, 2.0), (1 + d2 / 4.0) ** -0.5)
    real = beats(20, t=60, seed=1)
    values = [g.mmd(real * np.float32(k), real, n_boot=5, n_permutations=5).value for k in (10, 100, 1000)]
    assert values[0] < values[1] < values[2]


def test_mmd_of_a_set_with_itself_is_the_small_negative_value_of_the_unbiased_estimator():
    # identical sets: every cross pair (i, i) contributes k = 1, so MMD² = -(2 / n)(1 - mean k(i, j), i != j)
    a = beats(20, t=60, seed=1)
    result = g.mmd(a, a, n_boot=5, n_permutations=5)
    x, _ = _zscored_flat(a, a)
    d = cdist(x, x)
    k = 1 / np.sqrt(1 + d**2 / result.params["bandwidth"] ** 2)
    off_mean = k[~np.eye(20, dtype=bool)].mean()
    assert result.value == pytest.approx(-(2 / 20) * (1 - off_mean), abs=1e-9)


def test_mmd_grows_with_scale_and_noise():
    real = beats(30, t=100, seed=1)
    base = g.mmd(beats(30, t=100, seed=2), real, n_boot=5, n_permutations=5).value
    scaled = g.mmd(
        beats(30, t=100, seed=2) * np.float32(1.8), real, n_boot=5, n_permutations=5
    ).value
    noisy = g.mmd(beats(30, t=100, seed=2, noise=0.3), real, n_boot=5, n_permutations=5).value
    assert scaled > base
    assert noisy > base


def test_mmd_subsamples_to_max_n():
    a, b = beats(12, t=40, seed=1), beats(15, t=40, seed=2)
    result = g.mmd(a, b, max_n=8, n_boot=5, n_permutations=5)
    assert (result.params["n_gen_used"], result.params["n_real_used"]) == (8, 8)


# -------------------------------------------------------------------------- spectra


def test_spectral_similarity_equals_one_minus_scipy_jensen_shannon_squared():
    a, b = beats(8, t=300, seed=1), beats(9, t=300, seed=2, noise=0.1)
    result = g.spectral_similarity(a, b, FS, nperseg_s=1.28, n_boot=10)

    def mean_psd(x):
        _, p = welch(x.astype(float), fs=FS, window="hamming", nperseg=128, noverlap=64, axis=-1)
        p = p / p.sum(axis=-1, keepdims=True)
        return p.mean(axis=0)

    pa, pb = mean_psd(a), mean_psd(b)
    expected = [1 - jensenshannon(pa[k], pb[k], base=2) ** 2 for k in range(3)]
    np.testing.assert_allclose(result.params["per_lead"], expected, atol=1e-6)
    assert result.params["nperseg"] == 128


def test_spectral_similarity_is_one_for_identical_sets_symmetric_and_lower_for_noise():
    a, b = beats(10, t=300, seed=1), beats(10, t=300, seed=2)
    assert g.spectral_similarity(a, a, FS, n_boot=5).value == pytest.approx(1.0, abs=1e-12)
    assert g.spectral_similarity(a, b, FS, n_boot=5).value == pytest.approx(
        g.spectral_similarity(b, a, FS, n_boot=5).value, abs=1e-12
    )
    noisy = beats(10, t=300, seed=2, noise=0.3)
    assert (
        g.spectral_similarity(a, noisy, FS, n_boot=5).value
        < g.spectral_similarity(a, b, FS, n_boot=5).value
    )


def test_spectral_similarity_ignores_gain_by_design():
    a, b = beats(10, t=300, seed=1), beats(10, t=300, seed=2)
    assert g.spectral_similarity(a, b * np.float32(3.0), FS, n_boot=5).value == pytest.approx(
        g.spectral_similarity(a, b, FS, n_boot=5).value, abs=1e-9
    )


# ------------------------------------------------------------------- suite, records


def test_suite_returns_the_stable_names_with_intervals_around_the_values():
    gen, real = beats(12, t=200, seed=1), beats(14, t=200, seed=2)
    metrics = g.generation_suite(gen, real, None, None, FS, n_boot=20)
    assert [m.name for m in metrics] == [
        "dtw",
        "wasserstein",
        "wasserstein_waveform",
        "mmd",
        "spectral_similarity",
    ]
    for m in metrics:
        assert m.ci_low <= m.value <= m.ci_high, m.name
        assert m.params["seed"] == 0


def test_suite_is_reproducible_with_a_seed():
    gen, real = beats(10, t=120, seed=1), beats(10, t=120, seed=2)
    first = g.generation_suite(gen, real, None, None, FS, seed=3, n_boot=10)
    second = g.generation_suite(gen, real, None, None, FS, seed=3, n_boot=10)
    assert first == second


def test_per_record_values_match_the_pairs_and_flag_copies():
    real = beats(10, t=120, seed=1)
    gen = beats(6, t=120, seed=2)
    gen[0] = real[3]
    values = g.per_record_generation_values(gen, real, None, None, FS, n_pairs=4)
    pairs = g.dtw_pairs(gen, real, None, None, n_pairs=4)
    np.testing.assert_allclose(values["dtw_matched"][pairs.gen_idx], pairs.values)
    assert np.isnan(values["dtw_matched"]).sum() == 2
    assert values["nearest_real_distance"][0] == pytest.approx(0.0, abs=1e-5)
    assert values["nearest_real_distance"][1:].min() > 1.0
    assert all(len(v) == 6 for v in values.values())


def test_bad_inputs_name_the_record_and_the_shapes():
    real = beats(4, t=50)
    gen = real.copy()
    gen[2, 1, 5] = np.nan
    with pytest.raises(DataError, match="record 2"):
        g.wasserstein_amplitude(gen, real)
    with pytest.raises(DataError, match="leads and length"):
        g.mmd(beats(4, t=60), real)
    with pytest.raises(DataError, match="expected a float array"):
        g.spectral_similarity(real[0], real, FS)
