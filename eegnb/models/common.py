"""Shared base class for the model zoo: input checks, max-norm constraints, BatchNorm pairs.

Every model in :mod:`eegnb.models` subclasses :class:`EEGModel`. The base class keeps the
contracts of ``docs/ARCHITECTURE.md``: input ``(n, n_chans, n_times)`` float32, output logits
``(n, n_classes)``; activations are modules; max-norm constraints are applied by
:meth:`EEGModel.apply_constraints` (called by the trainer after every optimiser step), never
inside ``forward``.

Hand-written because no library offers these small pieces with our contracts (Keras-style
max-norm for PyTorch, a list of conv/BatchNorm pairs for zennit's ``NamedMergeBatchNorm``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

_LINEAR_TYPES = (nn.Conv1d, nn.Conv2d, nn.Linear)
_BN_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d)


class EEGModel(nn.Module):
    """Base class: stores the input geometry and checks every input cheaply.

    Subclasses set ``name``, build their layers, list max-norm constraints in
    ``self._max_norms`` as ``(module_name, max_norm)`` and implement
    :meth:`feature_length` (temporal length of the last feature map; ``< 1`` means the input is
    too short).
    """

    name: str = "base"

    def __init__(self, n_chans: int, n_times: int, n_classes: int, sfreq: float) -> None:
        super().__init__()
        for key, val in (("n_chans", n_chans), ("n_times", n_times), ("n_classes", n_classes)):
            if int(val) != val or val < 1:
                raise ValueError(f"{key} must be a positive integer, got {val!r}")
        if not sfreq or sfreq <= 0:
            raise ValueError(f"sfreq must be a positive number of Hz, got {sfreq!r}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}")
        self.n_chans = int(n_chans)
        self.n_times = int(n_times)
        self.n_classes = int(n_classes)
        self.sfreq = float(sfreq)
        self._max_norms: list[tuple[str, float]] = []
        self.config: dict[str, Any] = {}

    # ------------------------------------------------------------------ geometry
    @classmethod
    def feature_length(cls, n_times: int, sfreq: float, **kw: Any) -> int:
        """Temporal length of the last feature map for an input of ``n_times`` samples."""
        raise NotImplementedError

    @classmethod
    def min_n_times(cls, sfreq: float, **kw: Any) -> int:
        """Smallest ``n_times`` (samples) for which :meth:`feature_length` is at least 1."""
        hi = 1
        while cls.feature_length(hi, sfreq, **kw) < 1:
            hi *= 2
            if hi > 10_000_000:  # pragma: no cover - guards against a broken feature_length
                raise ValueError(f"{cls.name}: no input length works for sfreq={sfreq}, kw={kw}")
        lo = hi // 2
        while lo + 1 < hi:  # feature length is monotone in n_times: bisect
            mid = (lo + hi) // 2
            if cls.feature_length(mid, sfreq, **kw) >= 1:
                hi = mid
            else:
                lo = mid
        return hi

    @classmethod
    def _check_length(cls, n_times: int, sfreq: float, **kw: Any) -> int:
        length = cls.feature_length(n_times, sfreq, **kw)
        if length < 1:
            need = cls.min_n_times(sfreq, **kw)
            extra = f" with {kw}" if kw else ""
            raise ValueError(
                f"{cls.name}: n_times={n_times} is too short for its pooling; the minimum at "
                f"sfreq={sfreq:g} Hz{extra} is n_times={need} ({need / sfreq:.3g} s)"
            )
        return length

    # ------------------------------------------------------------------ checks
    def _check_input(self, x: torch.Tensor) -> None:
        expected = f"expected shape (n, {self.n_chans}, {self.n_times}) float32"
        if not isinstance(x, torch.Tensor):
            raise ValueError(
                f"{self.name}: input must be a torch.Tensor, {expected}; got {type(x)}"
            )
        if x.dim() != 3:
            raise ValueError(f"{self.name}: input must be 3-D, {expected}; got {tuple(x.shape)}")
        if x.shape[1] != self.n_chans or x.shape[2] != self.n_times:
            raise ValueError(f"{self.name}: {expected}; got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(f"{self.name}: {expected}; got dtype {x.dtype}")
        pdtype = self._param_dtype()
        if pdtype is not None and x.dtype != pdtype and not torch.is_autocast_enabled():
            raise ValueError(
                f"{self.name}: {expected} (the model's parameters are {pdtype}); got dtype {x.dtype}"
            )

    def _param_dtype(self) -> torch.dtype | None:
        for p in self.parameters():
            return p.dtype
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D401 - see subclasses
        """Logits ``(n, n_classes)`` for input ``(n, n_chans, n_times)``."""
        self._check_input(x)
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # ------------------------------------------------------------------ constraints
    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Renormalise constrained weights in place (Keras ``max_norm`` semantics).

        Each output unit's weight vector (a slice along dim 0: one conv filter or one row of a
        dense layer) is scaled down to L2 norm ``max_norm`` when it is larger. Call after every
        optimiser step; a no-op for models without constraints.
        """
        modules = dict(self.named_modules())
        for mod_name, max_norm in self._max_norms:
            w = modules[mod_name].weight
            w.copy_(torch.renorm(w, p=2, dim=0, maxnorm=max_norm))

    def constraint_norms(self) -> dict[str, tuple[float, float]]:
        """``{module_name: (largest per-unit L2 norm, max_norm)}`` for the constrained layers."""
        modules = dict(self.named_modules())
        out = {}
        for mod_name, max_norm in self._max_norms:
            w = modules[mod_name].weight.detach()
            out[mod_name] = (float(w.flatten(1).norm(dim=1).max()), float(max_norm))
        return out

    # ------------------------------------------------------------------ LRP helpers
    def batchnorm_pairs(self) -> list[tuple[str, str]]:
        """``[(linear_module_name, batchnorm_module_name), ...]`` for zennit's NamedMergeBatchNorm.

        A pair is a Conv/Linear directly followed by a BatchNorm inside the same
        ``nn.Sequential`` (so zennit's ``SequentialMergeBatchNorm`` finds the same pairs).
        """
        pairs = []
        for seq_name, mod in self.named_modules():
            if not isinstance(mod, nn.Sequential):
                continue
            names = list(mod._modules)
            for left, right in zip(names[:-1], names[1:]):
                if isinstance(mod._modules[left], _LINEAR_TYPES) and isinstance(
                    mod._modules[right], _BN_TYPES
                ):
                    prefix = f"{seq_name}." if seq_name else ""
                    pairs.append((prefix + left, prefix + right))
        return pairs

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, n_chans={self.n_chans}, n_times={self.n_times}, "
            f"n_classes={self.n_classes}, sfreq={self.sfreq:g}"
        )


def xavier_init(model: nn.Module) -> None:
    """Glorot-uniform weights, zero biases on conv/linear layers (the Keras default).

    EEGNet and the sleep CNN were written in Keras and Deep4 in braindecode, all of which use
    Glorot-uniform initialisation; BatchNorm keeps weight 1, bias 0.
    """
    for mod in model.modules():
        if isinstance(mod, _LINEAR_TYPES):
            nn.init.xavier_uniform_(mod.weight)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (BatchNorm weight/bias included, running stats not)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
