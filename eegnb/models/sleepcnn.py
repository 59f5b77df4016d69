"""Multimodal 1-D CNN for 30-s sleep epochs (EEG, EOG, EMG as input channels).

Ellis et al. ("A gradient-based approach for explaining multimodal deep learning
classifiers", IEEE BIBE 2021; building on their "Explainable sleep stage classification with
multimodal electrophysiology time-series", bioRxiv 2021) adapt the 1-D CNN of Youness Mansar's
"CVxTz/EEG_classification" (v1.0, 2020; single-channel Sleep-EDF staging, Keras) to three
modalities fed as input channels. We follow that network: two convs per stage, max pooling,
four stages (16, 32, 32, 256 filters), global max pooling and two dense layers of 64; we add
BatchNorm after every conv (the brief for this workbook asks for it and it speeds up training;
``batchnorm=False`` gives the original conv + ReLU stack). The softmax is left to the loss.
Used by notebooks 4x.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .common import EEGModel, xavier_init

# (filters, kernel) of the two convs in each stage, as in CVxTz/EEG_classification
STAGES = ((16, 5), (32, 3), (32, 3), (256, 3))


class SleepCNN(EEGModel):
    """1-D CNN over time with the modalities as input channels.

    ``(n, 3, 3000)`` (EEG Fpz-Cz, EOG, EMG at 100 Hz, 30 s) -> 4 stages of
    [Conv1d -> BatchNorm -> ReLU] x 2, the first three followed by MaxPool1d(2) and channel
    dropout (``nn.Dropout1d``, Keras SpatialDropout1D) -> global max pooling over time ->
    Flatten -> Dropout -> Linear(256, 64) -> ReLU -> Dropout -> Linear(64, 64) -> ReLU ->
    Dropout -> Linear(64, n_classes) -> logits ``(n, n_classes)``.

    Works for any ``n_chans`` and ``sfreq`` (kernels are in samples, as in the original).

    Args:
        n_chans, n_times, n_classes, sfreq: input geometry (Hz).
        batchnorm: BatchNorm1d directly after every conv (default True); the conv then has
            no bias. zennit's ``SequentialMergeBatchNorm`` folds the pairs.
        dropout: (spatial dropout after each pooling stage, dropout before/after the
            first dense layer, after the second dense layer) = (0.01, 0.01, 0.05), as in the
            original code.
    """

    name = "sleepcnn"

    def __init__(
        self,
        n_chans: int = 3,
        n_times: int = 3000,
        n_classes: int = 5,
        sfreq: float = 100.0,
        *,
        batchnorm: bool = True,
        dropout: tuple[float, float, float] = (0.01, 0.01, 0.05),
    ) -> None:
        super().__init__(n_chans, n_times, n_classes, sfreq)
        self._check_length(n_times, sfreq)
        self.config = dict(batchnorm=batchnorm, dropout=tuple(dropout))
        p_spatial, p_dense1, p_dense2 = dropout
        stages: list[tuple[str, nn.Module]] = []
        in_ch = n_chans
        for s, (filters, kernel) in enumerate(STAGES, start=1):
            layers: list[tuple[str, nn.Module]] = []
            for j in (1, 2):
                layers.append((f"conv{j}", nn.Conv1d(in_ch, filters, kernel, bias=not batchnorm)))
                if batchnorm:
                    layers.append((f"bn{j}", nn.BatchNorm1d(filters)))
                layers.append((f"relu{j}", nn.ReLU()))
                in_ch = filters
            if s < len(STAGES):
                layers += [("pool", nn.MaxPool1d(2)), ("drop", nn.Dropout1d(p_spatial))]
            stages.append((f"stage{s}", nn.Sequential(OrderedDict(layers))))
        self.features = nn.Sequential(OrderedDict(stages))
        self.head = nn.Sequential(
            OrderedDict(
                gmp=nn.AdaptiveMaxPool1d(1),
                flatten=nn.Flatten(),
                drop0=nn.Dropout(p_dense1),
                dense1=nn.Linear(in_ch, 64),
                relu1=nn.ReLU(),
                drop1=nn.Dropout(p_dense1),
                dense2=nn.Linear(64, 64),
                relu2=nn.ReLU(),
                drop2=nn.Dropout(p_dense2),
                classifier=nn.Linear(64, n_classes),
            )
        )
        xavier_init(self)

    @classmethod
    def feature_length(cls, n_times: int, sfreq: float, **kw) -> int:
        length = n_times
        for s, (_, kernel) in enumerate(STAGES, start=1):
            length -= 2 * (kernel - 1)
            if length < 1:
                return 0
            if s < len(STAGES):
                length //= 2
        return length

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
