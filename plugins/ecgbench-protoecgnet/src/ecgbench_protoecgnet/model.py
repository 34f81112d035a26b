"""ProtoECGNet as an ecgbench ``classify-71-labels`` model (fit / predict_proba / explain),
plus the per-prototype similarities that the phenotype analysis reads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.errors import DataError
from ecgbench.nn import distributed
from ecgbench.nn.checkpoints import checkpoint_path, load_checkpoint, save_checkpoint, training_key
from ecgbench.nn.threads import torch_threads
from ecgbench.weights import ModelWeights, WeightsMetadata
from ecgbench_protoecgnet import __version__
from ecgbench_protoecgnet.branches import branch_label_indices, load_branches
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.fitting import batched, train_network
from ecgbench_protoecgnet.network import ProtoECGNetModule
from ecgbench_protoecgnet.preprocessing import Preprocessor
from ecgbench_protoecgnet.projection import PrototypeSource

MODEL_NAME = "protoecgnet"


class ProtoECGNet:
    """Three prototype branches (rhythm 1-D, local 2-D, global 2-D) fused by one linear layer.

    After :meth:`fit`, every prototype is a latent window of a real training record
    (see :meth:`prototype_info`), so a prediction can be explained by the training
    ECG stretches it resembles (:meth:`explain`).
    """

    def __init__(self, config: ProtoECGNetConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx
        self.branches = load_branches()
        self.label_index = branch_label_indices(self.branches)
        self.net: ProtoECGNetModule | None = None
        self.pre: Preprocessor | None = None
        self.sources: list[PrototypeSource | None] = []
        self.source_signals: dict[str, np.ndarray] = {}
        self.n_samples = 0
        self.imported: tuple[ModelWeights, WeightsMetadata] | None = None

    # ----------------------------------------------------------------------------- fitting
    def fit(self, train: ECGDataset, val: ECGDataset) -> ProtoECGNet:
        """Train every stage (or load the cached weights for the same config, data and seed)."""
        for ds in (train, val):
            if len(ds) == 0:
                raise DataError(
                    f"dataset {ds.name!r} is empty; ProtoECGNet needs training and validation records"
                )
        if val.fs != train.fs:
            raise DataError(f"validation rate {val.fs} Hz differs from training rate {train.fs} Hz")
        cfg, ctx = self.config, self.ctx
        started = time.perf_counter()
        if self.imported is not None:
            return self._use_imported(train, started)
        self.pre = Preprocessor(train.fs, cfg.fs, cfg.highpass_hz, cfg.standardize).fit(
            train.signals
        )
        xtr, xva = self.pre(train.signals), self.pre(val.signals)
        self.n_samples = xtr.shape[-1]
        with torch.random.fork_rng(devices=[]), torch_threads(cfg.threads):
            torch.manual_seed(ctx.seed)
            self.net = ProtoECGNetModule(self.label_index, cfg, self.n_samples).to(ctx.device)
            key = training_key(
                MODEL_NAME,
                {
                    **cfg.training_part(),
                    "branches": self.branches,
                    "fs_in": train.fs,
                    "n_samples": self.n_samples,
                    "plugin_version": __version__,
                },
                f"{train.fingerprint}:{val.fingerprint}",
                ctx.seed,
            )
            path = checkpoint_path(ctx.cache_dir, MODEL_NAME, key)
            cached = distributed.agree(float(path.exists())) > 0  # rank 0's view decides for every rank
            if cached and not distributed.is_main():
                return self  # rank 0 evaluates with the cached weights; nothing to train here
            if cached:
                ctx.note("stages", self._load(path))
                ctx.note("checkpoint", {"path": str(path), "reused": True})
            else:
                if distributed.world().size > 1 and ctx.device.startswith("cuda"):
                    # batch statistics over the global batch (SyncBatchNorm needs CUDA; on the CPU each
                    # rank normalises its share)
                    self.net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.net)
                self.sources, logs = train_network(
                    self.net,
                    cfg,
                    xtr,
                    train.labels,
                    xva,
                    val.labels,
                    train.record_ids,
                    ctx.device,
                    ctx,
                )
                if distributed.is_main():
                    self._save(path, [log.to_dict() for log in logs])
                ctx.note("stages", [log.to_dict() for log in logs])
                ctx.note("checkpoint", {"path": str(path), "reused": False})
        self.net.eval()
        index = {rid: i for i, rid in enumerate(train.record_ids.tolist())}
        missing = [s.record_id for s in self.sources if s is not None and s.record_id not in index]
        if missing:
            raise DataError(
                f"checkpoint {path}: prototype source records {missing[:3]} are not in the training split"
            )
        self._keep_source_signals(train, xtr)
        self._note_network(started)
        return self

    def _keep_source_signals(self, train: ECGDataset, xtr: np.ndarray) -> None:
        """The preprocessed training records the prototypes come from (those in ``train``)."""
        index = {rid: i for i, rid in enumerate(train.record_ids.tolist())}
        self.source_signals = {
            s.record_id: xtr[index[s.record_id]] for s in self.sources if s is not None and s.record_id in index
        }

    def _note_network(self, started: float) -> None:
        ctx = self.ctx
        ctx.note("n_parameters", int(sum(p.numel() for p in self.net.parameters())))
        ctx.note(
            "n_prototypes", {b: br.prototypes.n_prototypes for b, br in self.net.branches.items()}
        )
        ctx.note("n_prototypes_without_source", sum(s is None for s in self.sources))
        ctx.note("fit_seconds", round(time.perf_counter() - started, 2))

    # ------------------------------------------------------------------------------ weights
    def export_weights(self) -> ModelWeights | None:
        """Network, standardisation and the prototypes' source records after fit()."""
        if self.net is None or self.pre is None:
            return None
        tensors = {f"net.{k}": v.detach().cpu() for k, v in self.net.state_dict().items()}
        if self.pre.mean is not None:
            tensors["preprocessor.mean"] = torch.from_numpy(self.pre.mean)
            tensors["preprocessor.std"] = torch.from_numpy(self.pre.std)
        extra = {"n_samples": self.n_samples, "sources": [None if s is None else s.to_dict() for s in self.sources]}
        return ModelWeights(MODEL_NAME, "model", tensors, extra)

    def import_weights(self, weights: ModelWeights, metadata: WeightsMetadata) -> None:
        """Use these weights: fit() then only prepares the input pipeline (no training)."""
        self.imported = (weights, metadata)

    def _use_imported(self, train: ECGDataset, started: float) -> ProtoECGNet:
        weights, _ = self.imported  # type: ignore[misc]
        cfg = self.config
        self.pre = Preprocessor(train.fs, cfg.fs, cfg.highpass_hz, cfg.standardize)
        if "preprocessor.mean" in weights.tensors:
            self.pre.mean = weights.tensors["preprocessor.mean"].cpu().numpy()
            self.pre.std = weights.tensors["preprocessor.std"].cpu().numpy()
        self.n_samples = int(weights.extra["n_samples"])
        xtr = self.pre(train.signals)
        if xtr.shape[-1] != self.n_samples:
            raise DataError(
                f"the weights were made for {self.n_samples} samples per lead at {cfg.fs:g} Hz "
                f"({self.n_samples / cfg.fs:g} s); dataset {train.name!r} gives {xtr.shape[-1]}; use records of that length"
            )
        with torch.random.fork_rng(devices=[]), torch_threads(cfg.threads):
            torch.manual_seed(self.ctx.seed)
            self.net = ProtoECGNetModule(self.label_index, cfg, self.n_samples).to(self.ctx.device)
        state = {k[len("net."):]: v for k, v in weights.tensors.items() if k.startswith("net.")}
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        training_only = [k for k in missing if ".head." in k]  # the stage-1 heads train the backbones only
        if unexpected or len(training_only) != len(missing):
            raise DataError(f"weights do not fit the network: missing {missing[:5]}, unexpected {unexpected[:5]}")
        self.net.eval()
        self.sources = [None if s is None else PrototypeSource(**s) for s in weights.extra["sources"]]
        self._keep_source_signals(train, xtr)
        self.ctx.note("trained_in_this_run", False)
        self._note_network(started)
        return self

    def _save(self, path: Path, stage_logs: list[dict]) -> None:
        tensors = dict(self.net.state_dict())
        if self.pre is not None and self.pre.mean is not None:
            tensors["preprocessor.mean"] = torch.from_numpy(self.pre.mean)
            tensors["preprocessor.std"] = torch.from_numpy(self.pre.std)
        sources = [None if s is None else s.to_dict() for s in self.sources]
        save_checkpoint(
            path, tensors, {"sources": json.dumps(sources), "stages": json.dumps(stage_logs)}
        )

    def _load(self, path: Path) -> list[dict]:
        """Restore weights, preprocessing and prototype sources; returns the stored stage logs."""
        tensors, metadata = load_checkpoint(path, device=self.ctx.device)
        if "preprocessor.mean" in tensors:
            self.pre.mean = tensors.pop("preprocessor.mean").cpu().numpy()
            self.pre.std = tensors.pop("preprocessor.std").cpu().numpy()
        self.net.load_state_dict(tensors)
        self.sources = [
            None if s is None else PrototypeSource(**s) for s in json.loads(metadata["sources"])
        ]
        return json.loads(metadata["stages"])

    # -------------------------------------------------------------------------- inference
    def _inputs(self, x: np.ndarray) -> np.ndarray:
        if self.net is None or self.pre is None:
            raise RuntimeError("ProtoECGNet.fit() must run before inference")
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[1] != 12:
            raise DataError(
                f"ProtoECGNet input must be float32[n, 12, T], got shape {list(x.shape)}"
            )
        z = self.pre(x)
        if z.shape[-1] != self.n_samples:
            raise DataError(
                f"ProtoECGNet was trained on {self.n_samples} samples per lead at {self.config.fs} Hz; "
                f"this input gives {z.shape[-1]}"
            )
        return z

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` mV at the training rate -> ``float32[n, 71]`` in [0, 1], SCP_CODES order."""
        z = self._inputs(x)
        with torch.no_grad(), torch_threads(self.config.threads):
            p = (
                torch.sigmoid(batched(self.net, z, self.config.batch_size * 4, self.ctx.device))
                .cpu()
                .numpy()
            )
        return np.clip(p, 0.0, 1.0).astype(np.float32)

    def prototype_similarities(self, x: np.ndarray) -> np.ndarray:
        """``float32[n, 12, T]`` -> ``float32[n, P]``: each record's similarity to every prototype
        (columns in :meth:`prototype_info` order)."""
        return self._similarities(self._inputs(x))[0]

    def _similarities(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad(), torch_threads(self.config.threads):
            parts = [
                self.net.similarities(torch.from_numpy(z[lo : lo + 128]).to(self.ctx.device))
                for lo in range(0, len(z), 128)
            ]
        sims = torch.cat([s for s, _ in parts]).cpu().numpy().astype(np.float32)
        windows = torch.cat([w for _, w in parts]).cpu().numpy()
        return sims, windows

    def prototype_info(self) -> list[dict]:
        """One dict per prototype: ``index``, ``branch``, ``class`` (SCP code), ``index_in_class``,
        ``source_record_id`` (None if its class had no training record), ``window_start_s``,
        ``window_end_s`` (the stretch of the source record) and ``similarity_before_projection``."""
        if self.net is None:
            raise RuntimeError("ProtoECGNet.fit() must run before prototype_info()")
        info, offset = [], 0
        for b, branch in self.net.branches.items():
            codes = self.branches[b]
            per_class = branch.prototypes.n_prototypes // len(codes)
            for p in range(branch.prototypes.n_prototypes):
                source = self.sources[offset + p]
                info.append(
                    {
                        "index": offset + p,
                        "branch": b,
                        "class": codes[p // per_class],
                        "index_in_class": p % per_class,
                        "extent": branch.extent,
                        "source_record_id": None if source is None else source.record_id,
                        "window_start_s": None if source is None else source.start / self.config.fs,
                        "window_end_s": None if source is None else source.stop / self.config.fs,
                        "similarity_before_projection": None
                        if source is None
                        else source.similarity_before,
                    }
                )
            offset += branch.prototypes.n_prototypes
        return info

    def explain(self, x: np.ndarray, record_ids: list[str], out_dir: Path) -> list[dict]:
        """For each record and each predicted statement, its most similar prototypes with the
        source training record and stretch; one PNG per record under ``"png"``."""
        from ecgbench_protoecgnet.explain import explain_records

        if len(record_ids) != len(x):
            raise DataError(f"explain(): {len(x)} records but {len(record_ids)} record ids")
        z = self._inputs(x)
        probs = self.predict_proba(x)
        sims, windows = self._similarities(z)
        return explain_records(
            self, z, probs, sims, windows, list(map(str, record_ids)), Path(out_dir)
        )


def create(config: ProtoECGNetConfig, ctx: RunContext) -> ProtoECGNet:
    """Factory called by the harness."""
    return ProtoECGNet(config, ctx)
