"""The training schedule: per branch feature extractor -> joint -> projection -> last layer,
then the fusion layer over all prototype similarities."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ecgbench.context import RunContext
from ecgbench.metrics.classification import macro_auroc
from ecgbench.nn.devices import to_device
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.losses import (
    LossWeights,
    class_pos_weight,
    classification_loss,
    jaccard_cooccurrence,
    prototype_loss,
    wrong_class_l1,
)
from ecgbench_protoecgnet.network import ProtoECGNetModule, PrototypeBranch
from ecgbench_protoecgnet.projection import PrototypeSource, project_prototypes
from ecgbench_protoecgnet.training import StageLog, run_stage


@torch.no_grad()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, batch_size: int, device: str
) -> torch.Tensor:
    """Apply ``fn`` to ``x`` (``float32[n, 12, T]``) in batches; results concatenated on ``device``."""
    parts = [fn(to_device(x[lo : lo + batch_size], device)) for lo in range(0, len(x), batch_size)]
    return torch.cat(parts)


def fusion_own_class_mask(net: ProtoECGNetModule, n_labels: int) -> torch.Tensor:
    """``float32[71, P_total]``: 1 where a prototype belongs to the statement of that row."""
    mask = torch.zeros(n_labels, net.n_prototypes)
    offset = 0
    for b, branch in net.branches.items():
        ident = branch.prototypes.identity.cpu()
        p = ident.shape[0]
        mask[torch.tensor(net.label_index[b]), offset : offset + p] = ident.T
        offset += p
    return mask


class _Trainer:
    def __init__(
        self, net: ProtoECGNetModule, cfg: ProtoECGNetConfig, device: str, ctx: RunContext
    ):
        self.net, self.cfg, self.device, self.ctx = net, cfg, device, ctx
        self.weights = LossWeights(
            cfg.lam_cluster, cfg.lam_separation, cfg.lam_orthogonality, cfg.lam_contrastive
        )
        self.logs: list[StageLog] = []

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float32), device=self.device)

    def _stage(
        self, name: str, owner: nn.Module, params: list, step, validate, y_val, n: int, **kw
    ) -> None:
        log = run_stage(
            name, owner, params, step, validate, y_val, n,
            patience=self.cfg.patience, weight_decay=self.cfg.weight_decay, batch_size=self.cfg.batch_size,
            rng=self.ctx.rng(f"protoecgnet/{name}"), ctx=self.ctx, amp=self.cfg.amp, **kw,
        )  # fmt: skip
        self.logs.append(log)

    def branch(
        self,
        b: str,
        branch: PrototypeBranch,
        xtr: np.ndarray,
        ytr: np.ndarray,
        xva: np.ndarray,
        yva: np.ndarray,
        record_ids: np.ndarray,
    ) -> list[PrototypeSource | None]:
        cfg, dev = self.cfg, self.device
        pos_weight = self._tensor(class_pos_weight(ytr))
        cooc = self._tensor(jaccard_cooccurrence(ytr))
        identity = branch.prototypes.identity

        def xb(ix: np.ndarray) -> torch.Tensor:
            return to_device(xtr[np.sort(ix)], dev)

        def yb(ix: np.ndarray) -> torch.Tensor:
            return self._tensor(ytr[np.sort(ix)])

        def step_feature(ix: np.ndarray):
            loss = classification_loss(branch.feature_logits(xb(ix)), yb(ix), pos_weight)
            return loss, {"bce": loss.detach()}

        def step_joint(ix: np.ndarray):
            logits, sims, _ = branch(xb(ix))
            return prototype_loss(
                logits,
                sims,
                yb(ix),
                branch.prototypes.prototypes,
                identity,
                pos_weight,
                cooc,
                self.weights,
            )

        def val_of(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], np.ndarray]:
            def validate() -> np.ndarray:
                branch.eval()
                return torch.sigmoid(batched(fn, xva, cfg.batch_size * 4, dev)).cpu().numpy()

            return validate

        backbone = list(branch.backbone.parameters())
        self._stage(
            f"{b}/feature_extractor", branch, backbone + list(branch.head.parameters()), step_feature,
            val_of(branch.feature_logits), yva, len(xtr), epochs=cfg.epochs_feature, lr=cfg.lr,
            train_mode=branch.train,
        )  # fmt: skip
        self._warm_prototypes(b, branch, xtr, ytr, xva, yva, pos_weight, cooc)
        joint = backbone + list(branch.add_on.parameters()) + [branch.prototypes.prototypes]
        self._stage(
            f"{b}/joint", branch, joint, step_joint, val_of(lambda x: branch(x)[0]), yva, len(xtr),
            epochs=cfg.epochs_joint, lr=cfg.lr, train_mode=branch.train,
        )  # fmt: skip

        started = time.perf_counter()
        validate_prototypes = val_of(lambda x: branch(x)[0])
        before = macro_auroc(yva, validate_prototypes())[0]
        sources = project_prototypes(branch, xtr, ytr, record_ids, cfg.batch_size * 4, dev)
        log = StageLog(f"{b}/projection", seconds=time.perf_counter() - started)
        log.val_macro_auroc = [before, macro_auroc(yva, validate_prototypes())[0]]
        log.loss_terms = {
            "projected": float(sum(s is not None for s in sources)),
            "prototypes": float(len(sources)),
        }
        self.logs.append(log)

        branch.eval()
        sims_tr = batched(
            lambda x: branch.prototypes(branch.latent(x))[0], xtr, cfg.batch_size * 4, dev
        )
        sims_va = batched(
            lambda x: branch.prototypes(branch.latent(x))[0], xva, cfg.batch_size * 4, dev
        )
        ytr_t = self._tensor(ytr)

        def step_last(ix: np.ndarray):
            bce = classification_loss(branch.last_layer(sims_tr[ix]), ytr_t[ix], pos_weight)
            loss = bce + cfg.lam_l1_last * wrong_class_l1(branch.last_layer.weight, identity)
            return loss, {"bce": bce.detach()}

        def val_last() -> np.ndarray:
            with torch.no_grad():
                return torch.sigmoid(branch.last_layer(sims_va)).cpu().numpy()

        self._stage(
            f"{b}/last_layer", branch.last_layer, list(branch.last_layer.parameters()), step_last, val_last, yva,
            len(xtr), epochs=cfg.epochs_last_layer, lr=cfg.lr_head, train_mode=lambda: None,
        )  # fmt: skip
        return sources

    def _warm_prototypes(
        self,
        b: str,
        branch: PrototypeBranch,
        xtr: np.ndarray,
        ytr: np.ndarray,
        xva: np.ndarray,
        yva: np.ndarray,
        pos_weight: torch.Tensor,
        cooc: torch.Tensor,
    ) -> None:
        """Train the add-on and the prototypes on cached features of the frozen backbone."""
        cfg, dev = self.cfg, self.device
        if cfg.epochs_prototypes <= 0:
            return
        branch.eval()
        feats_tr = batched(branch.backbone, xtr, cfg.batch_size * 4, dev)
        feats_va = batched(branch.backbone, xva, cfg.batch_size * 4, dev)
        ytr_t = self._tensor(ytr)
        layer = branch.prototypes

        def step(ix: np.ndarray):
            sims, _ = layer(branch.latent_from_features(feats_tr[ix]))
            return prototype_loss(
                branch.last_layer(sims),
                sims,
                ytr_t[ix],
                layer.prototypes,
                layer.identity,
                pos_weight,
                cooc,
                self.weights,
            )

        def validate() -> np.ndarray:
            with torch.no_grad():
                sims, _ = layer(branch.latent_from_features(feats_va))
                return torch.sigmoid(branch.last_layer(sims)).cpu().numpy()

        self._stage(
            f"{b}/prototypes", branch, list(branch.add_on.parameters()) + [layer.prototypes], step, validate, yva,
            len(xtr), epochs=cfg.epochs_prototypes, lr=cfg.lr_prototypes, train_mode=branch.eval,
        )  # fmt: skip

    def fusion(self, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray) -> None:
        cfg, dev, net = self.cfg, self.device, self.net
        net.eval()
        net.init_fusion_from_branches()
        sims_tr = batched(lambda x: net.similarities(x)[0], xtr, cfg.batch_size * 4, dev)
        sims_va = batched(lambda x: net.similarities(x)[0], xva, cfg.batch_size * 4, dev)
        ytr_t = self._tensor(ytr)
        pos_weight = self._tensor(class_pos_weight(ytr))
        other = 1.0 - fusion_own_class_mask(net, ytr.shape[1]).to(dev)

        def step(ix: np.ndarray):
            bce = classification_loss(net.fusion(sims_tr[ix]), ytr_t[ix], pos_weight)
            return bce + cfg.lam_l1_last * (net.fusion.weight * other).abs().sum(), {"bce": bce.detach()}

        def validate() -> np.ndarray:
            with torch.no_grad():
                return torch.sigmoid(net.fusion(sims_va)).cpu().numpy()

        self._stage(
            "fusion", net.fusion, list(net.fusion.parameters()), step, validate, yva, len(xtr),
            epochs=cfg.epochs_fusion, lr=cfg.lr_head, train_mode=lambda: None,
        )  # fmt: skip


def train_network(
    net: ProtoECGNetModule,
    cfg: ProtoECGNetConfig,
    xtr: np.ndarray,
    ytr: np.ndarray,
    xva: np.ndarray,
    yva: np.ndarray,
    record_ids: np.ndarray,
    device: str,
    ctx: RunContext,
) -> tuple[list[PrototypeSource | None], list[StageLog]]:
    """Run every stage on preprocessed inputs ``float32[n, 12, T]`` and labels ``uint8[n, 71]``.

    Returns the projection source of every prototype (branch order) and the stage logs.
    """
    trainer = _Trainer(net, cfg, device, ctx)
    sources: list[PrototypeSource | None] = []
    for b, branch in net.branches.items():
        idx = net.label_index[b]
        sources += trainer.branch(b, branch, xtr, ytr[:, idx], xva, yva[:, idx], record_ids)
    trainer.fusion(xtr, ytr, xva, yva)
    return sources, trainer.logs
