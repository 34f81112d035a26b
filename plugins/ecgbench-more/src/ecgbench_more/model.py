"""The MoRE models: ``more`` (retrieve-report), ``more-zeroshot`` and ``more-linear``
(classify-71-labels), all reading one contrastively pre-trained network.

Pre-training sees the training split's ECG–report pairs (records without a report are left
out) and uses the validation pairs for early stopping only; no model sees a label during
pre-training. ``more-zeroshot`` never sees a label at all; ``more-linear`` fits its probe on
the training labels and picks its regularisation on the validation labels.
"""

from __future__ import annotations

import numpy as np
import torch

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS, SCP_CODES
from ecgbench.errors import DataError
from ecgbench.metrics.classification import macro_auroc
from ecgbench.nn.threads import torch_threads
from ecgbench.nn.vit import count_parameters
from ecgbench_more.config import LinearProbeConfig, MoreConfig, ZeroShotConfig
from ecgbench_more.preprocess import preprocess
from ecgbench_more.pretrain import Pretrained, load_or_pretrain, pairs, tokenize
from ecgbench_more.prompts import prompts
from ecgbench_more.retrieval.task import reports_of
from ecgbench_more.text_encoder import normalise


class MorePretrained:
    """Pre-trains (or loads) the network on ``fit`` and embeds ECGs and texts with it."""

    def __init__(self, config: MoreConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx
        self.seed = int(np.random.SeedSequence([ctx.seed, config.seed]).generate_state(1)[0] % 2**31)
        self.pretrained: Pretrained | None = None
        self.fs: float | None = None

    def _pretrain(self, train: ECGDataset, val: ECGDataset) -> None:
        if val.fs != train.fs:
            raise DataError(f"validation split {val.name!r} is at {val.fs:g} Hz but training at {train.fs:g} Hz")
        self.fs = train.fs
        lower = self.config.lowercase
        train_pairs = pairs(preprocess(train.signals, train.fs), reports_of(train), lower)
        val_pairs = pairs(preprocess(val.signals, val.fs), reports_of(val), lower)
        if len(train_pairs.reports) < 2 or len(val_pairs.reports) < 2:
            raise DataError(
                f"dataset {train.name.split(':')[0]!r}: MoRE pre-trains on ECG-report pairs and found "
                f"{len(train_pairs.reports)} training and {len(val_pairs.reports)} validation records with a report"
            )
        result, key, hit = load_or_pretrain(train_pairs, val_pairs, self.config, self.seed, self.ctx.device,
                                            self.ctx.cache_dir, self.ctx.progress)
        self.pretrained = result
        network, history = result.network, result.history
        note = self.ctx.note
        note("pretrain_key", key)
        note("pretrain_cache", "hit" if hit else "miss")
        note("text_model", "random RoBERTa, tokenizer trained on the training reports" if result.random_text
             else f"local checkpoint {self.config.text_model_path}")
        note("text_weights", "random initialisation" if result.random_text else "pre-trained")
        note("tokenizer_vocabulary", len(result.tokenizer))
        note("n_parameters", count_parameters(network))
        note("n_parameters_trained", count_parameters(network, trainable_only=True))
        note("n_parameters_ecg_encoder", count_parameters(network.ecg))
        note("n_parameters_text_trained", count_parameters(network.text, trainable_only=True))
        note("ecg_tokens", int(network.ecg.vit.n_positions))
        for name in ("epochs_run", "best_epoch", "seconds", "train_pairs", "val_pairs"):
            note(f"pretrain_{name}", history.get(name))
        for name in ("train_loss", "val_loss", "temperature"):
            values = history.get(name, [])
            note(f"pretrain_{name}", {"first": values[0], "best": values[history["best_epoch"]], "last": values[-1]}
                 if values else None)

    def _network(self) -> Pretrained:
        if self.pretrained is None or self.fs is None:
            raise RuntimeError("fit() must run before the model embeds anything")
        return self.pretrained

    def _ecg_batches(self, x: np.ndarray, fn) -> np.ndarray:
        pre = self._network()
        x = preprocess(np.asarray(x, dtype=np.float32), self.fs)  # type: ignore[arg-type]
        if x.shape[-1] != pre.network.ecg.n_samples:
            raise DataError(f"ECGs of {x.shape[-1]} samples at 100 Hz; the encoder was built for {pre.network.ecg.n_samples}")
        out = []
        with torch.no_grad(), torch_threads(self.config.threads):
            for start in range(0, len(x), self.config.eval_batch_size):
                batch = torch.from_numpy(x[start: start + self.config.eval_batch_size]).to(self.ctx.device)
                out.append(fn(batch).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)

    def ecg_embeddings(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV -> unit vectors ``float32[n, proj_dim]`` in the shared space."""
        return self._ecg_batches(x, self._network().network.embed_ecg).astype(np.float32)

    def ecg_features(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV -> the ECG encoder's class token ``float32[n, ecg_dim]``."""
        return self._ecg_batches(x, self._network().network.ecg).astype(np.float32)

    def text_embeddings(self, texts: list[str]) -> np.ndarray:
        """n texts -> unit vectors ``float32[n, proj_dim]`` in the shared space."""
        pre = self._network()
        texts = [normalise(t, self.config.lowercase) for t in texts]
        out = []
        with torch.no_grad(), torch_threads(self.config.threads):
            for start in range(0, len(texts), self.config.eval_batch_size):
                ids, mask = tokenize(pre.tokenizer, texts[start: start + self.config.eval_batch_size], self.config.max_tokens)
                device = self.ctx.device
                out.append(pre.network.embed_text(torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device))
                           .float().cpu().numpy())
        return (np.concatenate(out) if out else np.zeros((0, self.config.proj_dim))).astype(np.float32)


class MoreRetriever(MorePretrained):
    """``retrieve-report``: ECGs and reports embedded by the pre-trained network."""

    def fit(self, train: ECGDataset, val: ECGDataset) -> MoreRetriever:
        with torch_threads(self.config.threads):
            self._pretrain(train, val)
        return self

    def embed_ecgs(self, x: np.ndarray) -> np.ndarray:
        return self.ecg_embeddings(x)

    def embed_reports(self, reports: list[str]) -> np.ndarray:
        return self.text_embeddings(reports)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)


class MoreZeroShot(MorePretrained):
    """Each statement scored by the best cosine similarity between the ECG and the statement's
    prompts (MoRE's ``zero_shot_ecg_more.py``), standardised per statement with the mean and SD
    of the validation ECGs' scores (MoRE standardises on the test set itself) and passed through
    a sigmoid, so the scores are probabilities-like and a test record's score never depends on
    the other test records. No label is used."""

    config: ZeroShotConfig

    def fit(self, train: ECGDataset, val: ECGDataset) -> MoreZeroShot:
        with torch_threads(self.config.threads):
            self._pretrain(train, val)
        language = self.config.prompt_language
        if language == "auto":
            language = "de" if train.name.split(":")[0] == "ptbxl" else "en"
        per_code = prompts(language)
        texts = [text for code in SCP_CODES for text in per_code[code]]
        owner = np.array([i for i, code in enumerate(SCP_CODES) for _ in per_code[code]])
        self.prompt_embeddings, self.prompt_owner = self.text_embeddings(texts), owner
        self.ctx.note("prompt_language", language)
        self.ctx.note("prompts_per_statement", len(texts) / N_LABELS)
        raw = self._raw_scores(val.signals)
        self.mean, self.sd = raw.mean(axis=0), np.maximum(raw.std(axis=0), 1e-6)
        return self

    def _raw_scores(self, x: np.ndarray) -> np.ndarray:
        similarity = self.ecg_embeddings(x) @ self.prompt_embeddings.T
        scores = np.full((len(x), N_LABELS), -np.inf, dtype=np.float64)
        for column, owner in enumerate(self.prompt_owner):
            scores[:, owner] = np.maximum(scores[:, owner], similarity[:, column])
        return scores

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV -> ``float32[n, 71]`` in [0, 1]."""
        return _sigmoid((self._raw_scores(x) - self.mean) / self.sd)


class MoreLinear(MorePretrained):
    """A logistic regression per statement on the frozen encoder's class token (standardised);
    the L2 strength is the one of ``probe_c`` with the best validation macro AUROC. A statement
    with one class in the training split gets its training prevalence."""

    config: LinearProbeConfig

    def fit(self, train: ECGDataset, val: ECGDataset) -> MoreLinear:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        with torch_threads(self.config.threads):
            self._pretrain(train, val)
        x_train, x_val = self.ecg_features(train.signals), self.ecg_features(val.signals)
        self.scaler = StandardScaler().fit(x_train)
        z_train, z_val = self.scaler.transform(x_train), self.scaler.transform(x_val)
        y = np.asarray(train.labels)
        best: tuple[float, float, list] | None = None
        tried = {}
        for c in self.config.probe_c:
            models: list = []
            for column in y.T:
                if column.min() == column.max():
                    models.append(float(column[0]))
                else:
                    models.append(LogisticRegression(C=c, max_iter=2000).fit(z_train, column))
            auroc, _ = macro_auroc(val.labels, self._predict(models, z_val))
            tried[str(c)] = None if not np.isfinite(auroc) else round(float(auroc), 4)
            score = auroc if np.isfinite(auroc) else -np.inf
            if best is None or score > best[0]:
                best = (score, c, models)
        assert best is not None
        self.models = best[2]
        self.ctx.note("probe_c", best[1])
        self.ctx.note("probe_val_macro_auroc_by_c", tried)
        return self

    @staticmethod
    def _predict(models: list, z: np.ndarray) -> np.ndarray:
        columns = [np.full(len(z), m) if isinstance(m, float) else m.predict_proba(z)[:, 1] for m in models]
        return np.stack(columns, axis=1).astype(np.float32)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV -> ``float32[n, 71]`` in [0, 1]."""
        return self._predict(self.models, self.scaler.transform(self.ecg_features(x)))


def create_retriever(config: MoreConfig, ctx: RunContext) -> MoreRetriever:
    return MoreRetriever(config, ctx)


def create_zeroshot(config: ZeroShotConfig, ctx: RunContext) -> MoreZeroShot:
    return MoreZeroShot(config, ctx)


def create_linear(config: LinearProbeConfig, ctx: RunContext) -> MoreLinear:
    return MoreLinear(config, ctx)
