"""Deep ConvNet / Deep4 (Schirrmeister et al., 2017, Human Brain Mapping 38(11):5391-5420).

R. T. Schirrmeister, J. T. Springenberg, L. D. J. Fiederer, M. Glasstetter, K. Eggensperger,
M. Tangermann, F. Hutter, W. Burgard, T. Ball, "Deep learning with convolutional neural
networks for EEG decoding and visualization". Layer layout and bias choices follow the
authors' braindecode ``Deep4Net`` (conv_time with bias, later convs without bias because a
BatchNorm follows). Used by notebooks 1x, 2x.

Parameter count (paper 1, Table I, 281,427): ``n_chans=28`` (the paper's 28-channel DEAP
layout) gives 281,427 exactly, Table I's DeepConvNet row; all 32 DEAP channels give 283,927
(the spatial conv's 25 x 25 x ch weights).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .common import EEGModel, xavier_init


class DeepConvNet(EEGModel):
    """Deep4: temporal conv + spatial conv, then three conv-pool blocks and a dense classifier.

    ``(n, ch, t)`` -> Unflatten ``(n, 1, ch, t)`` -> conv_time 25 x ``(1, k)`` -> conv_spat
    25 x ``(ch, 1)`` -> BatchNorm -> ELU -> MaxPool (1, 3)/3 -> 3 x [Dropout 0.5 -> conv
    50/100/200 x ``(1, k)`` -> BatchNorm -> ELU -> MaxPool (1, 3)/3] -> Flatten -> Linear ->
    logits ``(n, n_classes)``. Max-norm 2 on every conv, 0.5 on the dense layer
    (:meth:`apply_constraints`).

    Args:
        n_chans, n_times, n_classes, sfreq: input geometry (Hz for ``sfreq``; Deep4's kernels
            are in samples and do not scale with it).
        kernel_length: temporal kernel of every conv (10, as in the paper). With 10 the input
            needs at least 441 samples; 2-s SEED segments (400 samples) need
            ``kernel_length=5``, which also reproduces the frequency paper's parameter count.
        n_filters: filters of the four blocks (25, 50, 100, 200).
        pool_length: max-pool size and stride (3).
        dropout: 0.5.

    BatchNorms directly follow their conv inside ``nn.Sequential`` blocks, so zennit's
    ``SequentialMergeBatchNorm`` can fold them.
    """

    name = "deepconvnet"

    def __init__(
        self,
        n_chans: int,
        n_times: int,
        n_classes: int,
        sfreq: float = 128.0,
        *,
        kernel_length: int = 10,
        n_filters: tuple[int, int, int, int] = (25, 50, 100, 200),
        pool_length: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(n_chans, n_times, n_classes, sfreq)
        kw = dict(kernel_length=kernel_length, pool_length=pool_length)
        try:
            length = self._check_length(n_times, sfreq, **kw)
        except ValueError as err:
            short = self.min_n_times(sfreq, kernel_length=5, pool_length=pool_length)
            raise ValueError(
                f"{err}; a shorter temporal kernel helps: kernel_length=5 needs n_times >= {short}"
            ) from None
        self.config = dict(kw, n_filters=tuple(n_filters), dropout=dropout)
        f = list(n_filters)
        k, p = kernel_length, pool_length
        layers: list[tuple[str, nn.Module]] = [
            ("unflatten", nn.Unflatten(1, (1, n_chans))),  # (n, ch, t) -> (n, 1, ch, t)
            ("conv_time", nn.Conv2d(1, f[0], (1, k), bias=True)),
            ("conv_spat", nn.Conv2d(f[0], f[0], (n_chans, 1), bias=False)),
            ("bn0", nn.BatchNorm2d(f[0], momentum=0.1)),
            ("elu0", nn.ELU()),
            ("pool0", nn.MaxPool2d((1, p), stride=(1, p))),
        ]
        for i in range(1, 4):
            block = nn.Sequential(
                OrderedDict(
                    drop=nn.Dropout(dropout),
                    conv=nn.Conv2d(f[i - 1], f[i], (1, k), bias=False),
                    bn=nn.BatchNorm2d(f[i], momentum=0.1),
                    elu=nn.ELU(),
                    pool=nn.MaxPool2d((1, p), stride=(1, p)),
                )
            )
            layers.append((f"block{i}", block))
        layers += [("flatten", nn.Flatten()), ("classifier", nn.Linear(f[3] * length, n_classes))]
        self.net = nn.Sequential(OrderedDict(layers))
        self._max_norms = [("net.conv_time", 2.0), ("net.conv_spat", 2.0)]
        self._max_norms += [(f"net.block{i}.conv", 2.0) for i in range(1, 4)]
        self._max_norms += [("net.classifier", 0.5)]
        xavier_init(self)

    @classmethod
    def feature_length(
        cls, n_times: int, sfreq: float, kernel_length: int = 10, pool_length: int = 3, **kw
    ) -> int:
        length = n_times
        for _ in range(4):
            length = length - kernel_length + 1
            if length < pool_length:
                return 0
            length = (length - pool_length) // pool_length + 1
        return length

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
