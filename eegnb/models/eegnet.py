"""EEGNet (Lawhern et al., 2018, Journal of Neural Engineering 15(5):056013).

V. J. Lawhern, A. J. Solon, N. R. Waytowich, S. M. Gordon, C. P. Hung, B. J. Lance,
"EEGNet: a compact convolutional neural network for EEG-based brain-computer interfaces".
Used by notebooks 1x, 2x and 3x.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .common import EEGModel, xavier_init


def _same(kernel: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) zero padding of Keras' ``padding="same"`` along time."""
    left = (kernel - 1) // 2
    return (left, kernel - 1 - left, 0, 0)


class EEGNet(EEGModel):
    """EEGNet-F1,D (default EEGNet-8,2) as in Lawhern et al. (2018).

    Parameter count (paper 1, Table I): at DEAP size (32 ch, 512 samples, 128 Hz, 2 classes)
    EEGNet-8,2 has 2,130 trainable parameters: temporal conv 8 x 64 = 512, depthwise spatial
    16 x 32 = 512, separable depthwise 16 x 16 = 256 and pointwise 16 x 16 = 256, three
    BatchNorms 2 x (8 + 16 + 16) = 80, dense 16 x 16 x 2 + 2 = 514 (no conv biases). Table I
    reports 1,210, fewer than EEGNet-8,2's layers before the dense one even on 28 channels
    (1,552), and no F1/D/F2/kernel choice of this layout at 28 or 32 channels and a 4 s input
    gives 1,210 exactly (searched F1 in {2,4,6,8,16}, D in {1,2,4}, kernel 32/64/128, BatchNorm
    counted or not), so the paper's EEGNet was a smaller, unstated variant; the default here
    stays EEGNet-8,2.

    Block 1: temporal conv ``(1, kernel_length)`` with F1 filters ("same" padding as an explicit
    ``nn.ZeroPad2d`` module, no bias)
    -> BatchNorm -> depthwise spatial conv ``(n_chans, 1)`` with depth multiplier D (no bias,
    max-norm 1) -> BatchNorm -> ELU -> AvgPool (1, 4) -> Dropout.
    Block 2: separable conv = depthwise ``(1, 16)`` + pointwise to F2 filters (no bias) ->
    BatchNorm -> ELU -> AvgPool (1, 8) -> Dropout. Classifier: Flatten -> Linear
    (max-norm 0.25) -> logits (softmax is left to the loss).

    Args:
        n_chans, n_times: input geometry; input ``(n, n_chans, n_times)`` float32.
        n_classes: output logits ``(n, n_classes)``.
        sfreq: sampling rate (Hz). ``kernel_length`` defaults to ``sfreq / 2`` (64 at 128 Hz),
            i.e. half a second, which the paper ties to frequencies >= 2 Hz.
        F1, D, F2: temporal filters, depth multiplier, pointwise filters (8, 2, 16).
        kernel_length: temporal kernel in samples (default ``int(sfreq // 2)``).
        separable_length: depthwise kernel of the separable conv (16, = 500 ms at 32 Hz).
        dropout: 0.5 (the paper's choice for within-subject training); the paper uses 0.25
            for cross-subject training.

    Layers are named (``net.conv_temporal``, ``net.bn_temporal``, ``net.conv_spatial``, ...)
    and every BatchNorm directly follows the conv it normalises, so zennit's
    ``SequentialMergeBatchNorm`` or ``NamedMergeBatchNorm(model.batchnorm_pairs())`` can fold them.
    """

    name = "eegnet"

    def __init__(
        self,
        n_chans: int,
        n_times: int,
        n_classes: int,
        sfreq: float = 128.0,
        *,
        F1: int = 8,
        D: int = 2,
        F2: int | None = 16,
        kernel_length: int | None = None,
        separable_length: int = 16,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(n_chans, n_times, n_classes, sfreq)
        kernel_length = int(kernel_length or max(1, int(sfreq // 2)))
        F2 = int(F2 or F1 * D)
        length = self._check_length(n_times, sfreq)
        self.F1, self.D, self.F2 = F1, D, F2
        self.kernel_length = kernel_length
        self.config = dict(
            F1=F1,
            D=D,
            F2=F2,
            kernel_length=kernel_length,
            separable_length=separable_length,
            dropout=dropout,
        )
        self.net = nn.Sequential(
            OrderedDict(
                unflatten=nn.Unflatten(1, (1, n_chans)),  # (n, ch, t) -> (n, 1, ch, t)
                pad_temporal=nn.ZeroPad2d(_same(kernel_length)),
                conv_temporal=nn.Conv2d(1, F1, (1, kernel_length), bias=False),
                bn_temporal=nn.BatchNorm2d(F1),
                conv_spatial=nn.Conv2d(F1, F1 * D, (n_chans, 1), groups=F1, bias=False),
                bn_spatial=nn.BatchNorm2d(F1 * D),
                elu1=nn.ELU(),
                pool1=nn.AvgPool2d((1, 4)),
                drop1=nn.Dropout(dropout),
                pad_separable=nn.ZeroPad2d(_same(separable_length)),
                conv_separable_depth=nn.Conv2d(
                    F1 * D, F1 * D, (1, separable_length), groups=F1 * D, bias=False
                ),
                conv_separable_point=nn.Conv2d(F1 * D, F2, 1, bias=False),
                bn_separable=nn.BatchNorm2d(F2),
                elu2=nn.ELU(),
                pool2=nn.AvgPool2d((1, 8)),
                drop2=nn.Dropout(dropout),
                flatten=nn.Flatten(),
                classifier=nn.Linear(F2 * length, n_classes),
            )
        )
        self._max_norms = [("net.conv_spatial", 1.0), ("net.classifier", 0.25)]
        xavier_init(self)

    @classmethod
    def feature_length(cls, n_times: int, sfreq: float, **kw) -> int:
        return n_times // 4 // 8

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
