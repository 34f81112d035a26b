"""Prototype phenotypes: which single prototypes carry outcome signal beyond the class prediction.

Given, on one cohort, each record's similarity to every prototype of a prototype model
(``float[n, P]``), the model's class scores (``float[n, 71]``) and binary outcomes per record,
this module fits, per outcome:

- per prototype: ``outcome ~ 1 + z(similarity)`` (logistic regression, maximum likelihood):
  log odds ratio per SD, Wald standard error, likelihood-ratio p-value against the intercept
  model, and the AUROC of the raw similarity with a record-bootstrap percentile interval;
- beyond the class: ``outcome ~ 1 + z(logit class score) + z(similarity)`` against
  ``outcome ~ 1 + z(logit class score)`` for the prototype's own class (likelihood-ratio test,
  1 degree of freedom);
- per class: ``outcome ~ 1 + z(logit class score)`` with the same columns.

p-values are corrected for the number of prototypes (or classes) tested per outcome with
Benjamini–Hochberg. Records whose outcome is missing (NaN) are left out of that outcome, so an
outcome defined only inside one class (e.g. wide QRS among LBBB records) is analysed in that
class alone. numpy, scipy and scikit-learn only: no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import chi2, norm, rankdata

from ecgbench.data.labels import SCP_CODES, SCP_INDEX
from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import bootstrap_indices, percentile_ci, rng_for

#: Fewest positive and fewest negative records an outcome needs to be analysed.
MIN_EVENTS = 5


# ------------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class LogitFit:
    """Maximum-likelihood logistic regression ``y ~ 1 + X``: coefficients (intercept first),
    their Wald standard errors, the log-likelihood, and whether Newton's method converged
    (it does not under complete separation, where the estimates run off to infinity)."""

    coef: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool


def _loglik(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def fit_logistic(X: np.ndarray, y: np.ndarray, max_iter: int = 100, tol: float = 1e-10) -> LogitFit:
    """Fit ``y ~ 1 + X`` (``X: float[n, k]``, ``y`` 0/1) by Newton–Raphson with step halving."""
    y = np.asarray(y, dtype=np.float64)
    X1 = np.column_stack([np.ones(len(y)), np.asarray(X, dtype=np.float64).reshape(len(y), -1)])
    beta = np.zeros(X1.shape[1])
    ll = _loglik(X1, y, beta)
    converged = False
    hessian = np.eye(X1.shape[1])
    for _ in range(max_iter):
        p = expit(X1 @ beta)
        hessian = X1.T @ (X1 * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(hessian, X1.T @ (y - p))
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8:
            candidate = beta + t * step
            ll_new = _loglik(X1, y, candidate)
            if ll_new >= ll - 1e-12:
                break
            t /= 2
        beta, gain, ll = candidate, ll_new - ll, ll_new
        if np.max(np.abs(t * step)) < tol or abs(gain) < tol * (1 + abs(ll)):
            converged = bool(np.max(np.abs(beta)) < 30)
            break
    p = expit(X1 @ beta)
    hessian = X1.T @ (X1 * (p * (1 - p))[:, None])
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian)), 0, None))
    except np.linalg.LinAlgError:
        se = np.full_like(beta, np.nan)
    return LogitFit(beta, se, ll, converged)


def null_loglik(y: np.ndarray) -> float:
    """Log-likelihood of the intercept-only logistic model (closed form)."""
    y = np.asarray(y, dtype=np.float64)
    n, k = len(y), float(y.sum())
    return sum(c * np.log(c / n) for c in (k, n - k) if c > 0)


def lr_pvalue(loglik_full: float, loglik_reduced: float, df: int = 1) -> float:
    """Likelihood-ratio test: ``P(chi2_df >= 2 (ll_full - ll_reduced))``."""
    return float(chi2.sf(max(2.0 * (loglik_full - loglik_reduced), 0.0), df))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values (step-up, monotone, capped at 1); NaN stays NaN and does
    not count as a test."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    m = ok.size
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def auroc_columns(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``float[k]``: ROC AUC of each column of ``scores: float[n, k]`` for the 0/1 ``y``
    (Mann–Whitney with mid-ranks for ties; NaN when ``y`` holds one class)."""
    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return np.full(scores.shape[1], np.nan)
    ranks = rankdata(scores, axis=0)
    return (ranks[y].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)


def auroc_bootstrap_ci(
    y: np.ndarray, scores: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column's AUROC over record resamples (the same resamples for
    every column; a resample holding one class only is dropped)."""
    idx = bootstrap_indices(len(y), n_boot, rng_for(seed, "phenotype-auroc"))
    values = np.stack([auroc_columns(y[i], scores[i]) for i in idx])
    bounds = [percentile_ci(values[:, j], level) for j in range(scores.shape[1])]
    return np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    return np.where(sd > 0, (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0), np.nan)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


# ------------------------------------------------------------------------------ the analysis
@dataclass
class PhenotypeResult:
    """``per_prototype`` and ``per_class``: one row per (outcome, prototype / class)."""

    per_prototype: pd.DataFrame
    per_class: pd.DataFrame
    outcomes: pd.DataFrame

    def summary(self, alpha: float = 0.05) -> dict:
        """Per outcome: records, positives, and how many prototypes / classes pass FDR ``alpha``.

        A prototype can pass "beyond its class" without an association of its own when its
        similarity and its class score are strongly correlated and only their difference
        tracks the outcome; ``prototypes_associated_and_beyond_class`` counts those that pass both.
        """
        out = {}
        for name, row in self.outcomes.iterrows():
            pp = self.per_prototype[self.per_prototype["outcome"] == name]
            pc = self.per_class[self.per_class["outcome"] == name]
            best = pp.sort_values("q_beyond_class").head(1)
            out[str(name)] = {
                "n": int(row["n"]),
                "n_positive": int(row["n_positive"]),
                "analysed": bool(row["analysed"]),
                "prototypes_associated": int((pp["q_value"] < alpha).sum()),
                "prototypes_beyond_class": int((pp["q_beyond_class"] < alpha).sum()),
                "prototypes_associated_and_beyond_class": int(
                    ((pp["q_value"] < alpha) & (pp["q_beyond_class"] < alpha)).sum()
                ),
                "classes_associated": int((pc["q_value"] < alpha).sum()),
                "best_prototype_beyond_class": None
                if best.empty
                else best.iloc[0][
                    ["prototype", "class", "log_odds_per_sd", "auroc", "q_beyond_class"]
                ].to_dict(),
            }
        return out


def align_outcomes(record_ids: list[str] | np.ndarray, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per record (cohort order) and one float column per outcome (0, 1 or NaN).

    ``outcomes`` holds a ``record_id`` column and 0/1 outcome columns (empty = unknown).
    Records absent from the table get NaN; values other than 0/1 raise DataError.
    """
    if "record_id" not in outcomes.columns:
        raise DataError("outcome table: no 'record_id' column")
    table = outcomes.copy()
    table["record_id"] = table["record_id"].astype(str)
    if table["record_id"].duplicated().any():
        dup = table["record_id"][table["record_id"].duplicated()].iloc[0]
        raise DataError(f"outcome table: record {dup!r} appears twice")
    columns = [c for c in table.columns if c != "record_id"]
    if not columns:
        raise DataError("outcome table: no outcome column besides 'record_id'")
    for c in columns:
        values = pd.to_numeric(table[c], errors="coerce")
        bad = table[c][values.isna() & table[c].notna()]
        bad = pd.concat([bad, table[c][values.notna() & ~values.isin([0, 1])]])
        if len(bad):
            raise DataError(
                f"outcome table, column {c!r}: value {bad.iloc[0]!r} is not 0, 1 or empty"
            )
        table[c] = values.astype(float)
    ids = pd.Index([str(r) for r in record_ids])
    if not ids.isin(table["record_id"]).any():
        raise DataError("outcome table: none of its record ids is in the cohort")
    return table.set_index("record_id").reindex(ids)[columns].reset_index(drop=True)


def associate(
    similarities: np.ndarray,
    prototype_info: list[dict],
    class_scores: np.ndarray,
    outcomes: pd.DataFrame,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> PhenotypeResult:
    """Run the per-prototype, beyond-class and per-class models for every outcome column.

    ``similarities: float[n, P]`` (columns in ``prototype_info`` order; each info dict has at
    least ``class``, an SCP code), ``class_scores: float[n, 71]`` probabilities in SCP_CODES
    order, ``outcomes``: ``n`` rows aligned with the cohort (see :func:`align_outcomes`).
    """
    sims = np.asarray(similarities, dtype=np.float64)
    scores = np.asarray(class_scores, dtype=np.float64)
    n, n_proto = sims.shape
    if len(prototype_info) != n_proto:
        raise DataError(
            f"{n_proto} similarity columns but {len(prototype_info)} prototype descriptions"
        )
    if scores.shape != (n, len(SCP_CODES)) or len(outcomes) != n:
        raise DataError(
            f"class scores {scores.shape} / outcomes {len(outcomes)} rows do not match {n} records"
        )
    proto_class = [SCP_INDEX[item["class"]] for item in prototype_info]
    proto_rows, class_rows, outcome_rows = [], [], []
    for name in outcomes.columns:
        y_all = outcomes[name].to_numpy(dtype=np.float64)
        keep = np.isfinite(y_all)
        y = y_all[keep]
        n_pos = int(y.sum())
        analysed = n_pos >= MIN_EVENTS and len(y) - n_pos >= MIN_EVENTS
        outcome_rows.append(
            {"outcome": name, "n": int(keep.sum()), "n_positive": n_pos, "analysed": analysed}
        )
        if not analysed:
            continue
        s, c = sims[keep], scores[keep]
        z_s, z_c = _zscore(s), _zscore(_logit(c))
        ll0 = null_loglik(y)
        auc_s = auroc_columns(y, s)
        lo_s, hi_s = auroc_bootstrap_ci(y, s, n_boot, seed, level)
        auc_c = auroc_columns(y, c)
        lo_c, hi_c = auroc_bootstrap_ci(y, c, n_boot, seed, level)
        class_fits = {}
        for j, code in enumerate(SCP_CODES):
            row = {
                "outcome": name,
                "class": code,
                "auroc": auc_c[j],
                "auroc_low": lo_c[j],
                "auroc_high": hi_c[j],
            }
            row.update(_single_predictor(z_c[:, j], y, ll0))
            class_fits[j] = None if np.isnan(z_c[:, j]).any() else fit_logistic(z_c[:, [j]], y)
            class_rows.append(row)
        for p in range(n_proto):
            info = prototype_info[p]
            row = {
                "outcome": name, "prototype": p, "class": info["class"], "branch": info.get("branch"),
                "source_record_id": info.get("source_record_id"),
                "auroc": auc_s[p], "auroc_low": lo_s[p], "auroc_high": hi_s[p],
            }  # fmt: skip
            row.update(_single_predictor(z_s[:, p], y, ll0))
            reduced = class_fits[proto_class[p]]
            if reduced is None or np.isnan(z_s[:, p]).any():
                row.update(log_odds_beyond_class=np.nan, p_beyond_class=np.nan)
            else:
                full = fit_logistic(np.column_stack([z_c[:, proto_class[p]], z_s[:, p]]), y)
                row.update(
                    log_odds_beyond_class=full.coef[2],
                    p_beyond_class=lr_pvalue(full.loglik, reduced.loglik),
                )
            proto_rows.append(row)
    per_prototype = pd.DataFrame(proto_rows, columns=_PROTOTYPE_COLUMNS[:-2])
    per_class = pd.DataFrame(class_rows, columns=_CLASS_COLUMNS[:-1])
    per_prototype["q_value"] = _grouped_bh(per_prototype, "p_value")
    per_prototype["q_beyond_class"] = _grouped_bh(per_prototype, "p_beyond_class")
    per_class["q_value"] = _grouped_bh(per_class, "p_value")
    return PhenotypeResult(
        per_prototype, per_class, pd.DataFrame(outcome_rows).set_index("outcome")
    )


_SINGLE = ["log_odds_per_sd", "se", "p_wald", "p_value", "converged"]
_PROTOTYPE_COLUMNS = [
    "outcome", "prototype", "class", "branch", "source_record_id", "auroc", "auroc_low", "auroc_high",
    *_SINGLE, "log_odds_beyond_class", "p_beyond_class", "q_value", "q_beyond_class",
]  # fmt: skip
_CLASS_COLUMNS = ["outcome", "class", "auroc", "auroc_low", "auroc_high", *_SINGLE, "q_value"]


def _single_predictor(z: np.ndarray, y: np.ndarray, ll0: float) -> dict:
    """``y ~ 1 + z``: log odds ratio per SD, its Wald SE and p, and the LR p against the null."""
    if np.isnan(z).any():
        return dict.fromkeys(_SINGLE[:-1], np.nan) | {"converged": False}
    fit = fit_logistic(z[:, None], y)
    wald = 2 * norm.sf(abs(fit.coef[1] / fit.se[1])) if fit.se[1] > 0 else np.nan
    return {
        "log_odds_per_sd": fit.coef[1],
        "se": fit.se[1],
        "p_wald": wald,
        "p_value": lr_pvalue(fit.loglik, ll0),
        "converged": fit.converged,
    }


def _grouped_bh(table: pd.DataFrame, column: str) -> np.ndarray:
    q = np.full(len(table), np.nan)
    for _, index in table.groupby("outcome", sort=False).indices.items():
        q[index] = benjamini_hochberg(table[column].to_numpy(dtype=np.float64)[index])
    return q


# ---------------------------------------------------------------------------------- report
def volcano_plot(result: PhenotypeResult, path: Path, alpha: float = 0.05) -> Path:
    """Per outcome: log odds per SD beyond the class (prototypes, dots) and per class (crosses)
    against -log10 q; the dashed line is the FDR threshold."""
    from matplotlib.figure import Figure

    names = [o for o, r in result.outcomes.iterrows() if r["analysed"]] or list(
        result.outcomes.index
    )
    fig = Figure(figsize=(4.5 * max(len(names), 1), 4))
    axes = fig.subplots(1, max(len(names), 1), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=False):
        pp = result.per_prototype[result.per_prototype["outcome"] == name]
        pc = result.per_class[result.per_class["outcome"] == name]
        qp = -np.log10(np.clip(pp["q_beyond_class"].to_numpy(dtype=float), 1e-300, 1))
        qc = -np.log10(np.clip(pc["q_value"].to_numpy(dtype=float), 1e-300, 1))
        ax.scatter(
            pp["log_odds_beyond_class"], qp, s=8, alpha=0.6, label="prototype, beyond its class"
        )
        ax.scatter(
            pc["log_odds_per_sd"], qc, s=18, marker="x", color="tab:red", label="class score"
        )
        ax.axhline(-np.log10(alpha), color="grey", linestyle="--", linewidth=0.8)
        for _, row in pp.sort_values("q_beyond_class").head(3).iterrows():
            if row["q_beyond_class"] < alpha:
                ax.annotate(f"{row['class']}#{row['prototype']}", (row["log_odds_beyond_class"],
                            -np.log10(max(row["q_beyond_class"], 1e-300))), fontsize=7)  # fmt: skip
        ax.set_title(f"{name} (n={int(result.outcomes.loc[name, 'n'])})", fontsize=9)
        ax.set_xlabel("log odds ratio per SD")
        ax.set_ylabel("-log10 q (Benjamini-Hochberg)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def write_report(result: PhenotypeResult, out_dir: Path, alpha: float = 0.05) -> dict[str, str]:
    """``per_prototype.csv``, ``per_class.csv``, ``summary.json`` and ``volcano.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "per_prototype": out_dir / "per_prototype.csv",
        "per_class": out_dir / "per_class.csv",
        "summary": out_dir / "summary.json",
        "volcano": out_dir / "volcano.png",
    }
    result.per_prototype.to_csv(paths["per_prototype"], index=False)
    result.per_class.to_csv(paths["per_class"], index=False)
    paths["summary"].write_text(json.dumps(result.summary(alpha), indent=1, default=_plain) + "\n")
    volcano_plot(result, paths["volcano"], alpha)
    return {k: str(v) for k, v in paths.items()}


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
