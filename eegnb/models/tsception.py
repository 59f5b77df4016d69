"""TSception (Ding et al., 2022, IEEE Transactions on Affective Computing).

Y. Ding, N. Robinson, S. Zhang, Q. Zeng, C. Guan, "TSception: Capturing temporal dynamics and
spatial asymmetry from EEG for emotion recognition" (arXiv:2104.02935). Layer layout follows
the authors' public PyTorch code (yi-ding-cs/TSception, ``code/networks.py``). Used
by notebooks 1x and 2x.

Hand-written: :func:`hemisphere_order` (10-20 names -> left/right hemisphere order) and
:meth:`TSception.fold_batchnorm` exist in no library we use.
"""

from __future__ import annotations

import copy
import re
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from .common import EEGModel

INCEPTION_WINDOWS = (0.5, 0.25, 0.125)  # temporal kernels as fractions of sfreq (s)
POOL = 8  # temporal pooling of the Tception branches; Sception pools POOL // 4, fusion 4


class Square(nn.Module):
    """Element-wise square (first half of TSception's power layer)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


class Log(nn.Module):
    """Natural log with a floor ``eps`` (second half of the power layer; avoids log(0))."""

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x.clamp_min(self.eps))


def _block(conv: nn.Conv2d, pool: int, activation: str) -> nn.Sequential:
    pooling = nn.AvgPool2d((1, pool), stride=(1, pool))
    if activation == "leakyrelu":
        return nn.Sequential(OrderedDict(conv=conv, act=nn.LeakyReLU(), pool=pooling))
    return nn.Sequential(OrderedDict(conv=conv, square=Square(), pool=pooling, log=Log()))


class TSception(EEGModel):
    """Multi-scale temporal + asymmetric spatial CNN for emotion recognition.

    ``(n, ch, t)`` -> Unflatten ``(n, 1, ch, t)`` ->
    Tception: three temporal convs with ``num_T`` filters of ``int(w * sfreq)`` samples for
    w = 0.5, 0.25, 0.125 s, each -> activation -> AvgPool (1, 8); concatenated along time ->
    BatchNorm (``bn_t``) ->
    Sception: a global spatial conv ``(ch, 1)`` and a hemisphere conv ``(ch // 2, 1)`` with
    stride ``ch // 2`` (one output per hemisphere), ``num_S`` filters each -> activation ->
    AvgPool (1, 2); concatenated along the spatial axis (3 rows) -> BatchNorm (``bn_s``) ->
    fusion conv ``(3, 1)`` -> activation -> AvgPool (1, 4) -> BatchNorm (``bn_fusion``) ->
    mean over time -> Linear(num_S, hidden) -> ReLU -> Dropout -> Linear -> logits
    ``(n, n_classes)``.

    Channel order matters: the hemisphere conv assumes the first ``ch // 2`` channels are the
    left hemisphere and the next ``ch // 2`` their right-hemisphere mirrors (the paper used
    28 DEAP channels, midline removed; see :func:`hemisphere_order`).

    Parameter count (paper 1, Table I, 12,563): on the paper's 28-channel DEAP setup
    (``n_chans=28``, the 14 hemisphere pairs; the spatial kernels then span the whole montage)
    the count is 12,563 exactly, Table I's TSception row; on all 32 DEAP channels it is 13,913
    (the spatial convs see 4 more rows). The count does not depend on ``n_times``.
    ``eegnb.experiments.context_mask.Config(tsception_layout="hemisphere")`` trains on that
    28-channel layout.

    Args:
        n_chans, n_times, n_classes, sfreq: input geometry (Hz); ``n_chans`` even, >= 2.
        num_T, num_S, hidden, dropout: 15, 15, 32, 0.5 (the paper's settings).
        activation: ``"leakyrelu"`` (default; LeakyReLU then average pooling, as in the
            authors' public code; every layer is piecewise linear, so LRP stays usable) or
            ``"power"`` (the power layer: square -> average pooling -> log, all modules).
            The power layer is NOT LRP-conservative: square and log are not piecewise linear,
            zennit passes relevance through them by their gradient only.

    LRP note: the BatchNorms follow pooling layers, not convs, so zennit's merge canonizers
    cannot fold them into a preceding layer (:meth:`batchnorm_pairs` is empty). In eval mode
    :meth:`fold_batchnorm` folds each of them exactly into the *following* conv/linear layer.
    """

    name = "tsception"

    def __init__(
        self,
        n_chans: int,
        n_times: int,
        n_classes: int,
        sfreq: float = 128.0,
        *,
        num_T: int = 15,
        num_S: int = 15,
        hidden: int = 32,
        dropout: float = 0.5,
        activation: str = "leakyrelu",
    ) -> None:
        super().__init__(n_chans, n_times, n_classes, sfreq)
        if activation not in ("leakyrelu", "power"):
            raise ValueError(f"activation must be 'leakyrelu' or 'power', got {activation!r}")
        half = n_chans // 2
        if half < 1 or (n_chans - half) // half + 1 != 2:
            raise ValueError(
                f"tsception needs an even number of channels >= 2 ordered left hemisphere then "
                f"right (see hemisphere_order), got n_chans={n_chans}"
            )
        self._check_length(n_times, sfreq)
        self.kernels = [max(1, int(w * sfreq)) for w in INCEPTION_WINDOWS]
        self.config = dict(
            num_T=num_T, num_S=num_S, hidden=hidden, dropout=dropout, activation=activation
        )
        self.unflatten = nn.Unflatten(1, (1, n_chans))  # (n, ch, t) -> (n, 1, ch, t)
        self.tception1, self.tception2, self.tception3 = (
            _block(nn.Conv2d(1, num_T, (1, k)), POOL, activation) for k in self.kernels
        )
        self.bn_t = nn.BatchNorm2d(num_T)
        self.sception_global = _block(nn.Conv2d(num_T, num_S, (n_chans, 1)), POOL // 4, activation)
        self.sception_hemi = _block(
            nn.Conv2d(num_T, num_S, (half, 1), stride=(half, 1)), POOL // 4, activation
        )
        self.bn_s = nn.BatchNorm2d(num_S)
        self.fusion = _block(nn.Conv2d(num_S, num_S, (3, 1)), 4, activation)
        self.bn_fusion = nn.BatchNorm2d(num_S)
        self.gap = nn.AdaptiveAvgPool2d(1)  # mean over time (one spatial row is left)
        self.flatten = nn.Flatten()
        self.fc = nn.Sequential(
            OrderedDict(
                linear1=nn.Linear(num_S, hidden),
                relu=nn.ReLU(),
                drop=nn.Dropout(dropout),
                linear2=nn.Linear(hidden, n_classes),
            )
        )

    @classmethod
    def feature_length(cls, n_times: int, sfreq: float, **kw) -> int:
        lengths = [(n_times - max(1, int(w * sfreq)) + 1) // POOL for w in INCEPTION_WINDOWS]
        if min(lengths) < 1:
            return 0
        return sum(lengths) // (POOL // 4) // 4

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.unflatten(x)
        t = torch.cat([self.tception1(x), self.tception2(x), self.tception3(x)], dim=-1)
        t = self.bn_t(t)
        s = torch.cat([self.sception_global(t), self.sception_hemi(t)], dim=2)
        s = self.bn_s(s)
        f = self.bn_fusion(self.fusion(s))
        return self.fc(self.flatten(self.gap(f)))

    @torch.no_grad()
    def fold_batchnorm(self) -> TSception:
        """Eval-mode copy with each BatchNorm folded into the next conv/linear (exact).

        ``bn_t`` -> both Sception convs, ``bn_s`` -> the fusion conv, ``bn_fusion`` -> ``fc.linear1``
        (the mean over time in between is linear). The BatchNorms become ``nn.Identity``.
        Valid because none of these convs pads its input. Returns a new model; ``self`` is
        unchanged.
        """
        m = copy.deepcopy(self).eval()

        def fold(bn: nn.BatchNorm2d, layers: Sequence[nn.Module]) -> None:
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            for layer in layers:
                w = layer.weight
                # y = W (scale * x + shift) + b: scale the input-channel axis, move shift to b
                view = (1, -1) + (1,) * (w.dim() - 2)
                sums = w.sum(dim=tuple(range(2, w.dim()))) if w.dim() > 2 else w
                layer.bias.add_(sums @ shift)
                w.mul_(scale.view(view))

        fold(m.bn_t, [m.sception_global.conv, m.sception_hemi.conv])
        fold(m.bn_s, [m.fusion.conv])
        fold(m.bn_fusion, [m.fc.linear1])
        m.bn_t, m.bn_s, m.bn_fusion = nn.Identity(), nn.Identity(), nn.Identity()
        return m


_LEFT_RIGHT = re.compile(r"^([A-Za-z]+)(\d+)$")


def hemisphere_order(ch_names: Sequence[str]) -> tuple[list[int], list[str]]:
    """Indices putting 10-20 channels in TSception's order: left hemisphere, then mirrors.

    Odd-numbered electrodes (``F3``, ``FC5``, ...) are left, even-numbered ones right; the
    mirror of ``X<k>`` (k odd) is ``X<k+1>``. Midline (``Fz``, ``Cz``, ...) and unpaired
    channels are dropped, as in TSception's 28-channel DEAP layout.

    Returns:
        ``(index, names)``: ``X[:, index]`` has shape ``(n, 2 * n_pairs, t)``.
    """
    lookup = {name.lower(): i for i, name in enumerate(ch_names)}
    left, right = [], []
    for i, name in enumerate(ch_names):
        match = _LEFT_RIGHT.match(name.strip())
        if not match or int(match.group(2)) % 2 == 0:
            continue
        mirror = f"{match.group(1)}{int(match.group(2)) + 1}".lower()
        if mirror in lookup:
            left.append(i)
            right.append(lookup[mirror])
    if not left:
        raise ValueError(f"no left/right 10-20 channel pairs found in {list(ch_names)[:8]}...")
    index = left + right
    return index, [ch_names[i] for i in index]
