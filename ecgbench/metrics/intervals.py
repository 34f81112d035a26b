"""Interval metrics: measured PR, QRS, QT, QTc (ms) and HR (bpm) against reference values.

Inputs are ``float[n]`` per interval; NaN in a measurement means the measurer abstained, NaN
in a reference means the record has no reference for that interval (it is left out). Every
QTc number names its correction formula.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ecgbench.contracts.intervals import FIDUCIAL_NAMES, QTC_FORMULAS, BeatFiducials, qtc
from ecgbench.contracts.intervals import INTERVALS as INTERVAL_NAMES
from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics.bootstrap import MetricValue, bootstrap_ci

#: Long-QT cut-offs on QTc (ms) by sex ('' = unknown): a QTc above the cut-off is long QT.
#: Defaults follow the common adult thresholds (AHA/ACCF/HRS 2009 recommendations: QTc
#: > 450 ms in men, > 460 ms in women); unknown sex takes the lower, male cut-off.
LQT_CUTOFFS_MS: dict[str, float] = {"M": 450.0, "F": 460.0, "": 450.0}
#: First-degree AV block: PR above this (ms).
AVB1_PR_MS = 200.0
CI_NOTE = "95% percentile bootstrap interval, records resampled"
#: Tolerances (ms) of the "within" shares, as cardiology reports agreement.
WITHIN_MS: tuple[int, ...] = (10, 20, 40)
#: Intervals whose signed-error spread and within-tolerance shares are reported (ms only).
ERROR_INTERVALS: tuple[str, ...] = ("pr", "qrs", "qt", "qtc")
#: An error on a tolerance's edge (e.g. 10 samples at 250 Hz = 40 ms) counts as within it; this
#: slack (ms) absorbs the last-bit rounding of times computed in seconds.
TOLERANCE_SLACK_MS = 1e-6


def _pairs(reference: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    if reference.ndim != 1 or reference.shape != measured.shape:
        raise DataError(f"reference {reference.shape} and measured {measured.shape} must both be [n]")
    has_reference = np.isfinite(reference)
    both = has_reference & np.isfinite(measured)
    return reference, measured, both


def agreement(reference: np.ndarray, measured: np.ndarray) -> dict:
    """Agreement over the records where both values are finite.

    mae, pearson_r (``scipy.stats.pearsonr``; NaN with fewer than 2 pairs or a constant side),
    bias = mean(measured - reference), sd of the differences (ddof 1), Bland–Altman 95 %
    limits of agreement bias ± 1.96 sd, n_pairs, and abstain_rate = share of the records with
    a reference whose measurement is NaN.
    """
    from scipy.stats import pearsonr

    reference, measured, both = _pairs(reference, measured)
    n_reference = int(np.isfinite(reference).sum())
    diff = measured[both] - reference[both]
    n = int(both.sum())
    nan = float("nan")
    r = nan
    if n >= 2 and np.ptp(reference[both]) > 0 and np.ptp(measured[both]) > 0:
        r = float(pearsonr(reference[both], measured[both]).statistic)
    bias = float(diff.mean()) if n else nan
    sd = float(diff.std(ddof=1)) if n >= 2 else nan
    return {
        "mae": float(np.abs(diff).mean()) if n else nan,
        "pearson_r": r,
        "bias": bias,
        "sd": sd,
        "loa_low": bias - 1.96 * sd,
        "loa_high": bias + 1.96 * sd,
        "n_pairs": n,
        "abstain_rate": (n_reference - n) / n_reference if n_reference else nan,
    }


def tied_auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """AUROC of ``score`` for ``positive`` over every record, where a NaN score (an abstention)
    ties with every other record: each (positive, negative) pair that involves an abstention
    counts 1/2, each other pair counts as in ``roc_auc_score``. That is the expected AUROC when
    the abstained records are ranked at random, so abstaining on a hard record earns chance
    level for its pairs, never more. NaN with one class only.
    """
    from sklearn.metrics import roc_auc_score

    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ok = np.isfinite(score)
    y = positive[ok]
    m_pos, m_neg = int(y.sum()), int((~y).sum())
    measured = float(roc_auc_score(y, score[ok])) * m_pos * m_neg if m_pos and m_neg else 0.0
    return (measured + 0.5 * (n_pos * n_neg - m_pos * m_neg)) / (n_pos * n_neg)


def detection(score: np.ndarray, positive: np.ndarray, threshold: float | np.ndarray) -> dict:
    """Detection of a condition from a continuous measurement, over every record.

    auroc: :func:`tied_auroc` (an abstention ties with everything); auroc_measured: the AUROC
    over the measured records alone (``roc_auc_score``), for reference; coverage: the share of
    records with a score. accuracy, sensitivity and specificity of ``score > threshold`` (a
    scalar or one threshold per record) are over the measured records, which have a decision;
    ``n_abstained`` counts the others.
    """
    from sklearn.metrics import roc_auc_score

    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if score.shape != positive.shape or score.ndim != 1:
        raise DataError(f"score {score.shape} and truth {positive.shape} must both be [n]")
    threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), score.shape)
    ok = np.isfinite(score)
    s, y, t = score[ok], positive[ok], threshold[ok]
    predicted = s > t
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    nan = float("nan")
    return {
        "auroc": tied_auroc(score, positive),
        "auroc_measured": float(roc_auc_score(y, s)) if n_pos and n_neg else nan,
        "coverage": float(ok.mean()) if len(score) else nan,
        "accuracy": float((predicted == y).mean()) if len(y) else nan,
        "sensitivity": float(predicted[y].mean()) if n_pos else nan,
        "specificity": float((~predicted[~y]).mean()) if n_neg else nan,
        "n": int(len(score)),
        "n_positive": int(positive.sum()),
        "n_abstained": int((~ok).sum()),
    }


def lqt_cutoffs(sex: np.ndarray, cutoffs: Mapping[str, float] = LQT_CUTOFFS_MS) -> np.ndarray:
    """``float64[n]`` long-QT cut-off per record from its sex ('M', 'F', '')."""
    sex = np.asarray(sex).astype(str)
    unknown = sorted(set(sex.tolist()) - set(cutoffs))
    if unknown:
        raise DataError(f"sex values {unknown} have no long-QT cut-off; known: {sorted(cutoffs)}")
    return np.array([cutoffs[s] for s in sex], dtype=np.float64)


def _reference_rr(reference: Mapping[str, np.ndarray]) -> np.ndarray:
    if "rr" in reference:
        return np.asarray(reference["rr"], dtype=np.float64)
    if "hr" in reference:
        with np.errstate(divide="ignore"):
            return 60000.0 / np.asarray(reference["hr"], dtype=np.float64)
    raise DataError("reference intervals need 'rr' (ms) or 'hr' (bpm) to correct QT")


class ResamplingUnits:
    """What the bootstrap resamples: whole groups of rows (e.g. the windows cut from one source
    recording), or every row on its own when no groups are given.

    Windows of one recording share its patient, its lead placement and its noise, so they are
    not independent; resampling them one by one would make the intervals too narrow. A
    resample draws as many groups as there are, with replacement, and keeps all their rows.
    """

    def __init__(self, n: int, groups: np.ndarray | None = None):
        self.n_rows = n
        self._order: np.ndarray | None = None
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise DataError(f"groups has shape {groups.shape}, expected ({n},)")
            _, inverse = np.unique(groups.astype(str), return_inverse=True)
            if inverse.max(initial=-1) + 1 < n:
                self._order = np.argsort(inverse, kind="stable")
                self._counts = np.bincount(inverse)
                self._starts = np.cumsum(self._counts) - self._counts

    @property
    def n_units(self) -> int:
        return self.n_rows if self._order is None else len(self._counts)

    def rows(self, units: np.ndarray) -> np.ndarray:
        """Row indices of the drawn units (``int64[n_units]``), each unit's rows together."""
        if self._order is None:
            return units
        counts = self._counts[units]
        ends = np.cumsum(counts)
        offsets = np.repeat(self._starts[units] - (ends - counts), counts) + np.arange(int(ends[-1]) if len(ends) else 0)
        return self._order[offsets]

    def ci(self, stat: Callable[[np.ndarray], float], n_boot: int, seed: int) -> tuple[float, float]:
        """Bootstrap interval of ``stat(rows)``; (NaN, NaN) with fewer than 2 units."""
        if self.n_units < 2:
            return float("nan"), float("nan")
        return bootstrap_ci(lambda units: stat(self.rows(units)), self.n_units, n_boot=n_boot, seed=seed)

    def describe(self) -> str:
        if self._order is None:
            return CI_NOTE
        return f"{CI_NOTE.replace('records resampled', 'source recordings resampled')} ({self.n_units} recordings, all their rows kept together)"


def _signed_errors(reference: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """measured - reference where both are finite, NaN elsewhere."""
    with np.errstate(invalid="ignore"):
        return np.asarray(measured, dtype=np.float64) - np.asarray(reference, dtype=np.float64)


def error_suite(
    name: str,
    errors: np.ndarray,
    has_reference: np.ndarray,
    units: ResamplingUnits,
    *,
    unit: str = "ms",
    what: str = "records",
    seed: int = 0,
    n_boot: int = 200,
    extra: dict | None = None,
) -> list[MetricValue]:
    """``<name>_sd`` and ``<name>_within_<t>ms`` for t in :data:`WITHIN_MS` from signed errors.

    errors          float64[k] measured - reference, NaN where the measurer abstained or there is
                    no reference.
    has_reference   bool[k]: rows with a reference value (the denominator of the shares).

    sd: standard deviation (ddof 1) of the finite errors. within: share of the rows with a
    reference whose error lies within ±t; an abstention counts as outside, so the share
    rewards neither guessing nor declining.
    """
    errors = np.asarray(errors, dtype=np.float64)
    has_reference = np.asarray(has_reference, dtype=bool)

    def sd(rows: np.ndarray) -> float:
        e = errors[rows]
        e = e[np.isfinite(e)]
        return float(e.std(ddof=1)) if len(e) >= 2 else float("nan")

    def share(t: float) -> Callable[[np.ndarray], float]:
        def stat(rows: np.ndarray) -> float:
            ref = has_reference[rows]
            if not ref.any():
                return float("nan")
            with np.errstate(invalid="ignore"):
                return float(np.mean(np.abs(errors[rows][ref]) <= t + TOLERANCE_SLACK_MS))
        return stat

    rows = np.arange(len(errors))
    n_pairs = int(np.isfinite(errors).sum())
    n_reference = int(has_reference.sum())
    common = {"unit": unit, "seed": seed, "n_boot": n_boot, "ci": units.describe(), "n_reference": n_reference,
              "over": what, **(extra or {})}
    out = [MetricValue(f"{name}_sd", sd(rows), *units.ci(sd, n_boot, seed), n=n_pairs, params={
        **common, "definition": "standard deviation (ddof 1) of measured - reference"})]
    for t in WITHIN_MS:
        out.append(MetricValue(f"{name}_within_{t}ms", share(t)(rows), *units.ci(share(t), n_boot, seed),
                               n=n_reference, params={
            **common, "tolerance_ms": t,
            "definition": f"share of the {what} with a reference whose |measured - reference| <= {t} ms; "
                          "an abstention counts as outside"}))
    return out


def _agreement_metrics(name: str, reference, measured, unit: str, extra: dict, units: ResamplingUnits,
                       seed: int, n_boot: int) -> list[MetricValue]:
    ref, mea, both = _pairs(reference, measured)
    result = agreement(ref, mea)
    n = result["n_pairs"]

    def pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = both[rows]
        return ref[rows][ok], mea[rows][ok]

    def mae(rows):
        r, m = pairs(rows)
        return float(np.abs(m - r).mean()) if len(r) else float("nan")

    def bias(rows):
        r, m = pairs(rows)
        return float((m - r).mean()) if len(r) else float("nan")

    def corr(rows):
        r, m = pairs(rows)
        if len(r) < 2 or np.ptp(r) == 0 or np.ptp(m) == 0:
            return float("nan")
        return float(np.corrcoef(r, m)[0, 1])

    ci = {key: units.ci(stat, n_boot, seed) if n >= 2 else (float("nan"),) * 2
          for key, stat in (("mae", mae), ("bias", bias), ("pearson_r", corr))}
    common = {"unit": unit, "n_pairs": n, "abstain_rate": result["abstain_rate"], "seed": seed,
              "n_boot": n_boot, "ci": units.describe() + " (records with both values)", **extra}
    return [
        MetricValue(f"{name}_mae", result["mae"], *ci["mae"], n=n,
                    params={**common, "definition": "mean |measured - reference|"}),
        MetricValue(f"{name}_pearson_r", result["pearson_r"], *ci["pearson_r"], n=n,
                    params={**common, "definition": "Pearson r (scipy.stats.pearsonr)"}),
        MetricValue(f"{name}_bias", result["bias"], *ci["bias"], n=n,
                    params={**common, "definition": "mean(measured - reference), Bland-Altman",
                            "sd": result["sd"], "loa_low": result["loa_low"], "loa_high": result["loa_high"]}),
    ]


def _detection_metric(name, score, truth, threshold, params, units: ResamplingUnits, seed, n_boot) -> MetricValue:
    score = np.asarray(score, dtype=np.float64)
    truth = np.asarray(truth, dtype=bool)
    result = detection(score, truth, threshold)

    def auroc(rows):
        return tied_auroc(score[rows], truth[rows])

    low, high = (units.ci(auroc, n_boot, seed) if np.isfinite(result["auroc"]) else (float("nan"), float("nan")))
    return MetricValue(name, result["auroc"], low, high, n=result["n"], params={
        **params, **{k: result[k] for k in ("auroc_measured", "coverage", "accuracy", "sensitivity", "specificity",
                                            "n_positive", "n_abstained")},
        "definition": "AUROC over every record; an abstention ties with every other record (its pairs count 1/2)",
        "decisions": "accuracy, sensitivity and specificity are over the measured records",
        "seed": seed, "n_boot": n_boot,
        "ci": units.describe() + "; a resample with one class only is redrawn",
    })


def interval_suite(
    reference: Mapping[str, np.ndarray],
    measured: Mapping[str, np.ndarray],
    *,
    sex: np.ndarray,
    qtc_formula: str = "bazett",
    avb1_truth: np.ndarray | None = None,
    lqt_truth: np.ndarray | None = None,
    lqt_cutoffs_ms: Mapping[str, float] = LQT_CUTOFFS_MS,
    avb1_pr_ms: float = AVB1_PR_MS,
    groups: np.ndarray | None = None,
    seed: int = 0,
    n_boot: int = 200,
) -> list[MetricValue]:
    """``<pr|qrs|qt|qtc|hr>_{mae,pearson_r,bias}``, ``<pr|qrs|qt|qtc>_sd`` and
    ``_within_<10|20|40>ms``, ``avb1_auroc``, ``lqt_auroc``, ``coverage`` and ``abstain_rate``.

    ``reference``: 'pr', 'qrs', 'qt' (ms), 'rr' (ms) and/or 'hr' (bpm). The reference QTc is
    computed from reference QT and RR with ``qtc_formula``, the formula of the measured QTc;
    without 'rr', a given reference 'qtc' (corrected with that same formula) is used, else
    RR = 60000 / HR. ``measured``: 'pr', 'qrs', 'qt', 'qtc' (ms), 'hr' (bpm). An interval
    missing on either side is skipped. ``groups`` (``[n]``, e.g. the source recording of each
    window) makes every bootstrap resample whole groups (:class:`ResamplingUnits`).

    First-degree AV block: truth = ``avb1_truth`` or reference PR > ``avb1_pr_ms``; score =
    measured PR. Long QT: truth = ``lqt_truth`` or reference QTc > the record's sex cut-off;
    score = measured QTc minus that cut-off (so one ranking respects both cut-offs; with a
    single cut-off it ranks as QTc itself). Both AUROCs score every record with a truth, an
    abstention tying with every other record (:func:`tied_auroc`); ``coverage`` is the share of
    those (record, condition) pairs that have a measurement. Accuracy, sensitivity and
    specificity at the clinical threshold are in the params.
    """
    if qtc_formula not in QTC_FORMULAS:
        raise ConfigError(f"unknown QTc formula {qtc_formula!r}; choose one of {', '.join(QTC_FORMULAS)}")
    reference = dict(reference)
    if "qt" in reference and ("rr" in reference or "qtc" not in reference):
        reference["qtc"] = qtc(reference["qt"], _reference_rr(reference), qtc_formula)
    if "hr" not in reference and "rr" in reference:
        with np.errstate(divide="ignore"):
            reference["hr"] = 60000.0 / np.asarray(reference["rr"], dtype=np.float64)
    n = len(np.asarray(sex))
    units = ResamplingUnits(n, groups)
    out: list[MetricValue] = []
    counts: dict[str, tuple[int, int]] = {}  # interval -> (records with a reference, abstained)
    for name in INTERVAL_NAMES:
        if name not in reference or name not in measured:
            continue
        extra = {"qtc_formula": qtc_formula} if name == "qtc" else {}
        unit = "bpm" if name == "hr" else "ms"
        out.extend(_agreement_metrics(name, reference[name], measured[name], unit, extra, units, seed, n_boot))
        ref, mea, both = _pairs(reference[name], measured[name])
        if name in ERROR_INTERVALS:
            errors = np.where(both, _signed_errors(ref, mea), np.nan)
            out.extend(error_suite(name, errors, np.isfinite(ref), units, unit=unit, seed=seed, n_boot=n_boot,
                                   extra=extra))
        counts[name] = (int(np.isfinite(ref).sum()), int(np.isfinite(ref).sum() - both.sum()))

    coverage: dict[str, tuple[int, int]] = {}  # condition -> (records scored, records measured)
    if "pr" in measured and (avb1_truth is not None or "pr" in reference):
        score = np.asarray(measured["pr"], dtype=np.float64)
        if avb1_truth is not None:
            truth, known, source = np.asarray(avb1_truth, dtype=bool), np.ones(len(score), bool), "given"
        else:
            ref_pr = np.asarray(reference["pr"], dtype=np.float64)
            truth, known, source = ref_pr > avb1_pr_ms, np.isfinite(ref_pr), f"reference PR > {avb1_pr_ms:g} ms"
        sub = ResamplingUnits(int(known.sum()), None if groups is None else np.asarray(groups)[known])
        out.append(_detection_metric("avb1_auroc", score[known], truth[known], avb1_pr_ms, {
            "condition": "first-degree AV block", "score": "measured PR (ms)", "truth": source,
            "threshold_ms": avb1_pr_ms}, sub, seed, n_boot))
        coverage["avb1"] = (int(known.sum()), int(np.isfinite(score[known]).sum()))

    if "qtc" in measured and (lqt_truth is not None or "qtc" in reference):
        cut = lqt_cutoffs(sex, lqt_cutoffs_ms)
        if len(cut) != len(np.asarray(measured["qtc"])):
            raise DataError(f"sex has {len(cut)} records but measurements have {len(measured['qtc'])}")
        score = np.asarray(measured["qtc"], dtype=np.float64) - cut
        if lqt_truth is not None:
            truth, known, source = np.asarray(lqt_truth, dtype=bool), np.ones(len(score), bool), "given"
        else:
            truth, known = reference["qtc"] > cut, np.isfinite(reference["qtc"])
            source = "reference QTc > sex cut-off"
        sub = ResamplingUnits(int(known.sum()), None if groups is None else np.asarray(groups)[known])
        out.append(_detection_metric("lqt_auroc", score[known], truth[known], 0.0, {
            "condition": "long QT", "score": "measured QTc minus the record's cut-off (ms)",
            "truth": source, "qtc_formula": qtc_formula, "cutoffs_ms": dict(lqt_cutoffs_ms)}, sub, seed, n_boot))
        coverage["lqt"] = (int(known.sum()), int(np.isfinite(score[known]).sum()))

    if coverage:
        n_scored = sum(c[0] for c in coverage.values())
        n_measured = sum(c[1] for c in coverage.values())
        out.append(MetricValue("coverage", n_measured / n_scored if n_scored else float("nan"), n=n_scored, params={
            "definition": "share of the (record, condition) pairs scored by avb1_auroc and lqt_auroc whose "
                          "score is a measurement, not an abstention",
            "per_condition": {k: (c[1] / c[0] if c[0] else None) for k, c in coverage.items()}}))
    if counts:
        n_ref = sum(c[0] for c in counts.values())
        n_abstained = sum(c[1] for c in counts.values())
        out.append(MetricValue("abstain_rate", n_abstained / n_ref if n_ref else float("nan"), n=n_ref, params={
            "definition": "share of (record, interval) pairs with a reference whose measurement is NaN",
            "per_interval": {k: (c[1] / c[0] if c[0] else None) for k, c in counts.items()}}))
    return out


#: A measured beat whose time lies within this distance (s) of a reference beat's QRS mark is
#: the same beat (the QRS-detection tolerance of the delineation literature).
BEAT_MATCH_S = 0.15


def match_beats(
    reference_record: np.ndarray,
    reference_time: np.ndarray,
    measured_record: np.ndarray,
    measured_time: np.ndarray,
    tolerance_s: float = BEAT_MATCH_S,
) -> np.ndarray:
    """``int64[k]``: for each reference beat, the index of the measured beat of the same record
    nearest in time, when within ``tolerance_s``; -1 when there is none. Times in seconds."""
    ref_record = np.asarray(reference_record, dtype=np.int64)
    ref_time = np.asarray(reference_time, dtype=np.float64)
    mea_record = np.asarray(measured_record, dtype=np.int64)
    mea_time = np.asarray(measured_time, dtype=np.float64)
    out = np.full(len(ref_record), -1, dtype=np.int64)
    if len(mea_record) == 0 or len(ref_record) == 0:
        return out
    # One sorted key per beat: records far apart on one axis, so a search never crosses records.
    spacing = 2.0 * max(np.nanmax(np.abs(ref_time)), np.nanmax(np.abs(mea_time)), 0.0) + 4.0 * tolerance_s + 1.0
    order = np.lexsort((mea_time, mea_record))
    keys = mea_record[order] * spacing + mea_time[order]
    wanted = ref_record * spacing + ref_time
    right = np.clip(np.searchsorted(keys, wanted), 1, len(keys) - 1) if len(keys) > 1 else np.zeros(len(wanted), np.int64)
    left = np.maximum(right - 1, 0)
    nearest = np.where(np.abs(keys[left] - wanted) <= np.abs(keys[right] - wanted), left, right)
    close = np.abs(keys[nearest] - wanted) <= tolerance_s
    close &= mea_record[order][nearest] == ref_record
    out[close] = order[nearest[close]]
    return out


def fiducial_errors(reference: Mapping[str, np.ndarray], measured: BeatFiducials) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Signed errors (ms, measured - reference) per reference beat and boundary.

    reference   'record' (int64[k], row of the measured batch), 'time' (float64[k], the beat's
                QRS mark in s) and the boundaries of :data:`FIDUCIAL_NAMES` in s (NaN = not
                marked).
    Returns ({name: float64[k] errors, NaN where unmarked, unmatched or abstained}, the index of
    the matched measured beat per reference beat, -1 when unmatched).
    """
    match = match_beats(reference["record"], reference["time"], measured.record, measured.r)
    matched = match >= 0
    errors = {}
    for name in FIDUCIAL_NAMES:
        ref = np.asarray(reference[name], dtype=np.float64)
        mea = np.full(len(ref), np.nan)
        mea[matched] = getattr(measured, name)[match[matched]]
        errors[name] = 1000.0 * _signed_errors(ref, mea)
    return errors, match


def fiducial_suite(
    reference: Mapping[str, np.ndarray],
    measured: BeatFiducials,
    *,
    groups: np.ndarray | None = None,
    seed: int = 0,
    n_boot: int = 200,
) -> list[MetricValue]:
    """``<p_on|qrs_on|qrs_off|t_off>_bias``, ``_sd`` and ``_within_<10|20|40>ms`` over the
    reference beats (:func:`fiducial_errors`; ``reference`` as there).

    bias and sd are the mean and standard deviation (ddof 1) of the signed errors of the
    matched beats where both sides have the boundary; the within shares are over every
    reference beat with the mark, a missed beat or an abstention counting as outside.
    ``groups`` (``[n_records]``, e.g. the source recording of each window) makes the bootstrap
    resample whole groups of beats. ``_sd`` also carries ``sd_within_recording_mean``: the
    mean over recordings (groups, or records without groups) of the SD within each, the way
    the QT Database delineation literature averages it, beside the pooled SD that is the value.
    """
    errors, match = fiducial_errors(reference, measured)
    record = np.asarray(reference["record"], dtype=np.int64)
    labels = record if groups is None else np.asarray(groups)[record]
    units = ResamplingUnits(len(record), labels)
    out: list[MetricValue] = []
    for name in FIDUCIAL_NAMES:
        e = errors[name]
        has_reference = np.isfinite(np.asarray(reference[name], dtype=np.float64))

        def bias(rows: np.ndarray, e: np.ndarray = e) -> float:
            x = e[rows]
            x = x[np.isfinite(x)]
            return float(x.mean()) if len(x) else float("nan")

        n_pairs = int(np.isfinite(e).sum())
        extra = {"n_reference_beats": int(has_reference.sum()),
                 "n_matched_beats": int((has_reference & (match >= 0)).sum()),
                 "match_tolerance_s": BEAT_MATCH_S}
        out.append(MetricValue(f"{name}_bias", bias(np.arange(len(e))), *units.ci(bias, n_boot, seed), n=n_pairs,
                               params={"unit": "ms", "definition": "mean(measured - reference) over matched beats",
                                       "seed": seed, "n_boot": n_boot, "ci": units.describe(), **extra}))
        spread = error_suite(name, e, has_reference, units, what="reference beats", seed=seed, n_boot=n_boot,
                             extra=extra)
        spread[0].params["sd_within_recording_mean"] = _mean_within_sd(e, labels)
        out.extend(spread)
    return out


def _mean_within_sd(errors: np.ndarray, labels: np.ndarray) -> float:
    """Mean over label groups (with at least 2 finite errors) of the SD (ddof 1) within each."""
    sds = []
    labels = np.asarray(labels).astype(str)
    for label in np.unique(labels):
        e = errors[labels == label]
        e = e[np.isfinite(e)]
        if len(e) >= 2:
            sds.append(float(e.std(ddof=1)))
    return float(np.mean(sds)) if sds else float("nan")
