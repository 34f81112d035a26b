"""ResNet feature extractors: 1-D over the 12 leads as channels, 2-D over the leads x time image.

Both are randomly initialised (no ImageNet weights). The 2-D stem is a 12 x 7 convolution
without height padding, so after it the image is one row high and the residual stages move
along time only; the output keeps time so that prototypes can be localised. On a one-row map
the outer rows of a zero-padded 3 x 3 kernel only ever see padding, so the residual blocks use
1 x 3 kernels: the same functions with a third of the multiply-adds.
"""

from __future__ import annotations

import torch
from torch import nn


class _Block1d(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.shortcut = (
            nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm1d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class _Block2d(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, (1, 3), (1, stride), (0, 1), bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, (1, 3), 1, (0, 1), bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, (1, stride), bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def _stages(
    block: type[nn.Module], widths: tuple[int, ...], blocks: tuple[int, ...]
) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = widths[0]
    for stage, (width, n) in enumerate(zip(widths, blocks, strict=True)):
        for i in range(n):
            layers.append(block(c_in, width, 2 if (i == 0 and stage > 0) else 1))
            c_in = width
    return nn.Sequential(*layers)


class ResNet1d(nn.Module):
    """``float32[B, 12, T]`` -> ``float32[B, widths[-1], T / 32]`` (stride 2 stem, pool, 3 strided stages)."""

    def __init__(self, widths: tuple[int, ...], blocks: tuple[int, ...], n_leads: int = 12):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv1d(n_leads, widths[0], 7, 2, 3, bias=False),
            nn.BatchNorm1d(widths[0]),
            nn.ReLU(),
            nn.MaxPool1d(3, 2, 1),
        )
        self.stages = _stages(_Block1d, widths, blocks)
        self.out_channels = widths[-1]
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))


class ResNet2d(nn.Module):
    """``float32[B, 12, T]`` (read as a 1 x 12 x T image) -> ``float32[B, widths[-1], T / 32]``."""

    def __init__(self, widths: tuple[int, ...], blocks: tuple[int, ...], n_leads: int = 12):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], (n_leads, 7), (1, 2), (0, 3), bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
            nn.MaxPool2d((1, 3), (1, 2), (0, 1)),
        )
        self.stages = _stages(_Block2d, widths, blocks)
        self.out_channels = widths[-1]
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x.unsqueeze(1))).squeeze(2)


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
