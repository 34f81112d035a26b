"""The three prototype branches and the fusion layer over their similarities."""

from __future__ import annotations

import torch
from torch import nn

from ecgbench_protoecgnet.backbones import ResNet1d, ResNet2d
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.prototypes import PrototypeLayer

#: branch -> (backbone kind, prototype extent): 'pooled' = one vector per record after
#: global average pooling over time, 'global' = a window as long as the latent map,
#: 'local' = ``proto_time_len_local`` latent steps.
BRANCH_LAYOUT: dict[str, tuple[str, str]] = {
    "rhythm": ("1d", "pooled"),
    "local": ("2d", "local"),
    "global": ("2d", "global"),
}


def latent_steps(config: ProtoECGNetConfig, n_samples: int) -> int:
    """Length W of the backbones' output map for an input of ``n_samples`` samples
    (stride-2 stem, stride-2 pooling, one stride-2 block per stage after the first)."""
    steps = (n_samples - 1) // 2 + 1
    steps = (steps - 1) // 2 + 1
    for _ in config.widths[1:]:
        steps = (steps - 1) // 2 + 1
    return steps


class PrototypeBranch(nn.Module):
    """Backbone -> add-on (1x1 convs, sigmoid) -> prototype layer -> last layer (no bias).

    Also carries the stage-1 head (dropout + linear on time-pooled backbone features) that
    trains the backbone as a plain classifier before prototypes exist.
    """

    def __init__(self, branch: str, n_classes: int, config: ProtoECGNetConfig, n_latent_steps: int):
        super().__init__()
        kind, extent = BRANCH_LAYOUT[branch]
        self.branch, self.extent = branch, extent
        self.backbone = (ResNet1d if kind == "1d" else ResNet2d)(config.widths, config.blocks)
        c = self.backbone.out_channels
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(c, n_classes))
        self.add_on = nn.Sequential(
            nn.Conv1d(c, config.proto_dim, 1),
            nn.ReLU(),
            nn.Conv1d(config.proto_dim, config.proto_dim, 1),
            nn.Sigmoid(),
        )
        per_class = getattr(config, f"prototypes_{branch}")
        length = {"pooled": 1, "global": n_latent_steps, "local": config.proto_time_len_local}[
            extent
        ]
        self.prototypes = PrototypeLayer(
            n_classes, per_class, config.proto_dim, length, config.similarity, config.window_pooling
        )
        self.last_layer = nn.Linear(self.prototypes.n_prototypes, n_classes, bias=False)
        with torch.no_grad():
            ident = self.prototypes.identity.T
            self.last_layer.weight.copy_(
                config.last_layer_correct * ident + config.last_layer_incorrect * (1.0 - ident)
            )

    def feature_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Stage-1 logits ``[B, C]`` from time-pooled backbone features."""
        return self.head(self.backbone(x).mean(dim=-1))

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """``float32[B, 12, T]`` -> latent map ``float32[B, proto_dim, W]`` (W = 1 when pooled)."""
        return self.latent_from_features(self.backbone(x))

    def latent_from_features(self, f: torch.Tensor) -> torch.Tensor:
        """Backbone features ``float32[B, C, W]`` -> latent map (time-pooled first when pooled)."""
        if self.extent == "pooled":
            f = f.mean(dim=-1, keepdim=True)
        return self.add_on(f)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits [B, C], similarities [B, P], best window [B, P])``."""
        sims, best = self.prototypes(self.latent(x))
        return self.last_layer(sims), sims, best


class ProtoECGNetModule(nn.Module):
    """The three branches and the fusion layer ``Linear(P_total -> 71)`` over their similarities."""

    def __init__(
        self,
        branches: dict[str, list[int]],
        config: ProtoECGNetConfig,
        n_samples: int,
        n_labels: int = 71,
    ):
        super().__init__()
        w = latent_steps(config, n_samples)
        self.label_index = {b: list(idx) for b, idx in branches.items()}
        self.branches = nn.ModuleDict(
            {b: PrototypeBranch(b, len(idx), config, w) for b, idx in branches.items()}
        )
        self.n_prototypes = sum(br.prototypes.n_prototypes for br in self.branches.values())
        self.fusion = nn.Linear(self.n_prototypes, n_labels)
        self.init_fusion_from_branches()

    def init_fusion_from_branches(self) -> None:
        """Start the fusion layer at the branches' own last layers (zero bias, zero elsewhere)."""
        with torch.no_grad():
            self.fusion.weight.zero_()
            self.fusion.bias.zero_()
            offset = 0
            for b, branch in self.branches.items():
                p = branch.prototypes.n_prototypes
                rows = torch.tensor(self.label_index[b])
                self.fusion.weight[rows, offset : offset + p] = branch.last_layer.weight
                offset += p

    def similarities(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(similarities [B, P_total], best window [B, P_total])`` in branch order."""
        parts = [branch.prototypes(branch.latent(x)) for branch in self.branches.values()]
        return torch.cat([s for s, _ in parts], dim=1), torch.cat([w for _, w in parts], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fused logits ``[B, 71]``."""
        return self.fusion(self.similarities(x)[0])
