"""Layer-wise relevance propagation (LRP) for the workbook's EEG models, through zennit.

Relevance starts at the explained logit (one-hot of the target class times the logit value)
and is propagated to the input ``(n, ch, t)`` by zennit rules. Walked through in
``notebooks/30_crp_concepts`` (paper 3) and used by the paper-4 notebooks (``4x``).

Registered methods (all ``domain="time"``, ``signed=True``; maps have ``X``'s shape and keep
their sign -- positive relevance speaks for the target class, negative against it):

=========================  ================================================================
``lrp_epsilon``            LRP-epsilon on every convolution and linear layer (keyword
                           ``epsilon``, default ``1e-6``, zennit's default: practically
                           LRP-0, the most faithful, noisiest choice; larger values such as
                           0.01 or 100 absorb weak/contradicting relevance into the
                           stabiliser and give sparser maps).
``lrp_alphabeta``          LRP-alpha-beta on every convolution and linear layer (keywords
                           ``alpha=1``, ``beta=0``; zennit requires ``alpha - beta == 1``).
``lrp_epsilon_plus``       zennit's ``EpsilonPlus``: z+ (alpha=1, beta=0) on convolutions,
                           epsilon on dense (``nn.Linear``) layers.
``lrp_epsilon_alpha2_beta1`` zennit's ``EpsilonAlpha2Beta1``: alpha=2, beta=1 on
                           convolutions, epsilon on dense layers.
=========================  ================================================================

Every method takes ``zero_params="bias"`` (leave biases out of the rules, so that they absorb no
relevance; see below) and ``canonize=True``.

What is handled here (the known pitfalls):

* zennit's rules act on convolution/linear layers. Element-wise activations (ELU, ReLU,
  ...) get the ``Pass`` rule; otherwise their gradient would rescale relevance and break
  conservation. Average pooling and sums get zennit's ``Norm`` rule (conservative).
* BatchNorm is merged into the convolution or linear layer that feeds it
  (:class:`MergeBatchNormCanonizer`, built on zennit's ``MergeBatchNorm``). The pairs come
  from ``model.batchnorm_pairs()`` when the model defines it (zennit's ``NamedMergeBatchNorm``
  format) and otherwise from a traced forward pass: a BatchNorm is paired with the layer whose
  output tensor *is* its input tensor. zennit's ``SequentialMergeBatchNorm`` pairs modules by
  their registration order, which is only right when the forward calls them in that order
  inside an ``nn.Sequential``; the traced pairs do not depend on how the model is written. This finds the stock ``SequentialMergeBatchNorm`` pairs and the ones it misses
  (a BatchNorm registered before its convolution, or in another submodule). A BatchNorm that
  follows no linear layer (e.g. after pooling) stays and gets the epsilon rule as a diagonal
  linear layer (``Pass`` with ``zero_params="bias"``), so it does not rescale relevance.
* A merged BatchNorm turns into a bias ``beta - gamma * mean / sqrt(var + eps)``; biases absorb
  relevance, so the input relevance sums to the logit only approximately.
  ``zero_params="bias"`` leaves biases out of the rules (the output is unchanged): each layer
  then passes on all the relevance it receives, except where a bias-free pre-activation is
  close to zero and the stabiliser takes its share (with LRP-0-like epsilon this can make
  single maps unstable; alpha-beta and z+ stay well behaved). With zero biases and BatchNorm
  shifts, LRP-epsilon conserves the logit within 1% (``tests/test_lrp.py``).
* Non-LRP operations (TSception's power layer ``log(mean(x**2))``) have no conservative rule
  in zennit. Its ``Square`` and ``Log`` modules get ``Pass`` and the pooling between them
  ``Norm``, which redistributes relevance in proportion to ``x**2`` within each window
  (conservative, but a heuristic). TSception's default LeakyReLU variant is plain LRP.
  Any other model may declare rules through a method ``lrp_rules()`` returning
  ``[(module_name_or_type, zennit_hook), ...]``. Without a rule, the plain gradient flows
  through such an op: the map is still produced but its sum is not the logit
  (:func:`conservation` measures this).

Hand-written here (zennit 0.4.6, pinned by zennit-crp 0.6.0, has no ``zero_params`` yet): the
bias-dropping variants of the rules and the traced BatchNorm pairing; and the *relay* hooks
(:func:`relay_composite`, used by the registered ``lrp_*`` methods). zennit's hooks let autograd
run each layer's ordinary backward and then overwrite its result with the rule's relevance, so
every hooked layer is differentiated twice; a relay hook hands the layer's output to autograd
through a small ``autograd.Function`` whose backward computes only the rule (zennit's own
modifiers, gradient mapper and reducer, the same arithmetic); where the rule's forward is the
layer's own (epsilon with biases, zennit's ``Norm``) it differentiates the layer's forward graph
instead of recomputing it, and alpha-beta with ``beta=0`` (z+) skips its two zero-weighted passes.
LRP-epsilon went from 2.1-2.6x to 1.35-2.1x one gradient pass (EEGNet, DeepConvNet, TSception
at DEAP size; ``benchmarks/run.py``) at identical maps (``tests/test_speed_lrp.py``).
Registering the composite costs well under a millisecond (measured), so it is simply
registered once per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from zennit.attribution import Gradient
from zennit.canonizers import Canonizer, MergeBatchNorm
from zennit.composites import LayerMapComposite, NameMapComposite
from zennit.core import BasicHook, Composite, RemovableHandleList, mod_params, stabilize
from zennit.layer import Sum
from zennit.rules import Norm, Pass
from zennit.types import Activation, AvgPool, BatchNorm, Convolution, Linear

from eegnb.explain.registry import check_target, frozen, register

__all__ = [
    "RULES",
    "MergeBatchNormCanonizer",
    "batchnorm_pairs",
    "canonizers_for",
    "make_composite",
    "lrp_relevance",
    "explained_logit",
    "conservation",
    "canonized_outputs",
    "epsilon_rule",
    "alphabeta_rule",
    "relay_composite",
]

#: Rule names accepted by :func:`make_composite`.
RULES = ("epsilon", "alphabeta", "epsilon_plus", "epsilon_alpha2_beta1")

_ZERO_PARAMS = (None, "bias")


# --------------------------------------------------------------------------- rules
def _param_modifier(base: Callable, zero_bias: bool) -> Callable:
    def mod(param, name):
        if zero_bias and name == "bias":
            return torch.zeros_like(param)
        return base(param, name)

    return mod


def epsilon_rule(epsilon: float = 1e-6, zero_bias: bool = False) -> BasicHook:
    """zennit's LRP-epsilon rule; ``zero_bias`` leaves the layer's bias out of ``z``."""
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    hook = BasicHook(
        input_modifiers=[lambda input: input],
        param_modifiers=[_param_modifier(lambda p, _: p, zero_bias)],
        output_modifiers=[lambda output: output],
        gradient_mapper=(lambda out_grad, outputs: out_grad / stabilize(outputs[0], epsilon)),
        reducer=(lambda inputs, gradients: inputs[0] * gradients[0]),
        require_params=False,
    )
    # the rule's forward is the layer's own (no modified input or parameters): a relay hook
    # differentiates the layer's forward graph instead of recomputing it
    hook.reuse_forward = not zero_bias
    return hook


def alphabeta_rule(alpha: float = 1.0, beta: float = 0.0, zero_bias: bool = False) -> BasicHook:
    """zennit's LRP-alpha-beta rule (``alpha - beta == 1``); ``zero_bias`` drops the bias.

    Identical to ``zennit.rules.AlphaBeta`` (and to ``ZPlus`` for alpha=1, beta=0) when
    ``zero_bias`` is False.
    """
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be >= 0, got alpha={alpha}, beta={beta}")
    if not np.isclose(alpha - beta, 1.0):
        raise ValueError(f"alpha - beta must equal 1 for conservation, got alpha={alpha}, beta={beta}")

    def pos(p, _):
        return p.clamp(min=0)

    def neg(p, _):
        return p.clamp(max=0)

    def nobias(f):
        return lambda p, name: torch.zeros_like(p) if name == "bias" else f(p, name)

    mods = [pos, nobias(neg), neg, nobias(pos)]
    if zero_bias:
        mods = [nobias(m) for m in mods]
    if beta == 0:  # z+ : the beta terms weigh nothing; skip their two forward/backward passes
        return BasicHook(
            input_modifiers=[lambda x: x.clamp(min=0), lambda x: x.clamp(max=0)],
            param_modifiers=mods[:2],
            output_modifiers=[lambda output: output] * 2,
            gradient_mapper=(lambda out_grad, outputs: [out_grad / stabilize(outputs[0] + outputs[1])] * 2),
            reducer=(lambda inputs, gradients: alpha * (inputs[0] * gradients[0] + inputs[1] * gradients[1])),
            require_params=False,
        )
    return BasicHook(
        input_modifiers=[
            lambda x: x.clamp(min=0),
            lambda x: x.clamp(max=0),
            lambda x: x.clamp(min=0),
            lambda x: x.clamp(max=0),
        ],
        param_modifiers=mods,
        output_modifiers=[lambda output: output] * 4,
        gradient_mapper=(
            lambda out_grad, outputs: [
                out_grad / stabilize(denom) for denom in [outputs[0] + outputs[1]] * 2 + [outputs[2] + outputs[3]] * 2
            ]
        ),
        reducer=(
            lambda inputs, gradients: (
                alpha * (inputs[0] * gradients[0] + inputs[1] * gradients[1])
                - beta * (inputs[2] * gradients[2] + inputs[3] * gradients[3])
            )
        ),
        require_params=False,
    )


# --------------------------------------------------------------------------- canonizers
def batchnorm_pairs(model: nn.Module, example: torch.Tensor | None = None) -> list[tuple[str, str]]:
    """``[(linear_name, bn_name), ...]``: each BatchNorm and the conv/linear layer feeding it.

    Uses ``model.batchnorm_pairs()`` when defined; BatchNorms it does not list are paired by
    tracing one forward pass on ``example`` (one input ``(1, ch, t)``; default zeros
    ``(1, model.n_chans, model.n_times)``, so a model without those attributes needs it; the
    registered methods pass the first sample they explain): a BatchNorm whose input tensor is
    the very output tensor of a linear layer is merged into it.
    """
    declared = list(model.batchnorm_pairs()) if hasattr(model, "batchnorm_pairs") else []
    pairs = [(lin if isinstance(lin, str) else tuple(lin), str(bn)) for lin, bn in declared]
    named = {bn for _, bn in pairs}
    bns = [n for n, m in model.named_modules() if isinstance(m, BatchNorm) and n not in named]
    if not bns:
        return pairs
    if example is None:
        if not (hasattr(model, "n_chans") and hasattr(model, "n_times")):
            raise ValueError(
                f"batchnorm_pairs needs `example` (1, ch, t) to trace {type(model).__name__}, which has no "
                "n_chans / n_times attributes"
            )
        p = next(model.parameters(), None)
        example = torch.zeros(1, int(model.n_chans), int(model.n_times), device=p.device if p is not None else None)
    produced: list[tuple[torch.Tensor, str]] = []  # references keep tensors alive: identity is unambiguous
    consumed: dict[str, torch.Tensor] = {}
    handles = []
    for name, mod in model.named_modules():
        if isinstance(mod, Linear):
            handles.append(mod.register_forward_hook(lambda m, i, o, name=name: produced.append((o, name))))
        elif name in bns:
            handles.append(mod.register_forward_hook(lambda m, i, o, name=name: consumed.__setitem__(name, i[0])))
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        model.train(was)
        for h in handles:
            h.remove()
    for bn in bns:
        lin = next((name for out, name in produced if bn in consumed and out is consumed[bn]), None)
        if lin is not None:
            pairs.append((lin, bn))
    return pairs


class MergeBatchNormCanonizer(MergeBatchNorm):
    """Merge every BatchNorm into the conv/linear layer feeding it (see :func:`batchnorm_pairs`).

    A zennit canonizer: ``apply(model)`` merges (parameters changed in place) and returns the
    merge instances whose ``remove()`` restores the original parameters; zennit composites do
    both. ``pairs`` overrides the automatic pairing.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]] | None = None):
        super().__init__()
        self.pairs = None if pairs is None else [tuple(p) for p in pairs]

    def apply(self, root_module):
        pairs = self.pairs if self.pairs is not None else batchnorm_pairs(root_module)
        lookup = dict(root_module.named_modules())
        instances = []
        for lin, bn in pairs:
            lins = (lin,) if isinstance(lin, str) else tuple(lin)
            missing = [n for n in lins + (bn,) if n not in lookup]
            if missing:
                raise ValueError(f"batchnorm pair ({lin!r}, {bn!r}): no module named {missing} in {type(root_module).__name__}")
            inst = self.copy()
            inst.register(tuple(lookup[n] for n in lins), lookup[bn])  # stores the originals, then merges
            instances.append(inst)
        return instances

    def copy(self):
        return self.__class__(self.pairs)


def canonizers_for(model: nn.Module, example: torch.Tensor | None = None) -> list[Canonizer]:
    """Canonizers for ``model``: BatchNorm merging (explicit + traced pairs).

    ``example (1, ch, t)`` is the input traced to pair BatchNorms (see :func:`batchnorm_pairs`).
    """
    return [MergeBatchNormCanonizer(batchnorm_pairs(model, example))]


# --------------------------------------------------------------------------- composites
def _elementwise_types() -> tuple[type, ...]:
    """Element-wise non-linear modules of our models that zennit does not list as activations.

    TSception's power layer is ``Log(AvgPool(Square(x)))``: with ``Pass`` on ``Square`` and
    ``Log`` and ``Norm`` on the pooling, relevance is redistributed in proportion to ``x**2``
    within each pooling window (conservative; a heuristic, as neither op is piecewise linear).
    """
    try:
        from eegnb.models.tsception import Log, Square
    except ImportError:  # pragma: no cover - models not installed
        return ()
    return (Square, Log)


def make_composite(
    rule: str = "epsilon",
    *,
    model: nn.Module | None = None,
    epsilon: float = 1e-6,
    alpha: float = 1.0,
    beta: float = 0.0,
    zero_params: str | None = None,
    canonize: bool = True,
    canonizers: Sequence[Canonizer] | None = None,
    extra_rules: Sequence[tuple] | None = None,
    example: torch.Tensor | None = None,
) -> Composite:
    """A zennit composite for ``rule`` (one of :data:`RULES`).

    Parameters
    ----------
    rule : ``"epsilon"`` (every conv/linear layer), ``"alphabeta"`` (every conv/linear layer),
        ``"epsilon_plus"`` (z+ on convolutions, epsilon on ``nn.Linear``),
        ``"epsilon_alpha2_beta1"`` (alpha2-beta1 on convolutions, epsilon on ``nn.Linear``).
    model : the model to explain; needed for the BatchNorm canonizer (pairs are traced once
        here) and for the model's own rules (``model.lrp_rules()``).
    epsilon : stabiliser of the epsilon rule (also on BatchNorms left unmerged).
    alpha, beta : alpha-beta weights (``alpha - beta == 1``).
    zero_params : ``"bias"`` drops biases from every rule: relevance is conserved exactly.
    canonize : merge BatchNorms into the preceding layers (needs ``model``).
    canonizers : explicit zennit canonizers (replace the automatic ones).
    extra_rules : ``[(name_or_type, hook), ...]`` that take precedence (module names are
        matched exactly, types by ``isinstance``).
    example : one input ``(1, ch, t)`` traced to pair BatchNorms with their layers; needed
        when the model has BatchNorms and no ``n_chans``/``n_times`` attributes.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if zero_params not in _ZERO_PARAMS:
        raise ValueError(f"zero_params must be None or 'bias', got {zero_params!r}")
    zb = zero_params == "bias"
    eps = epsilon_rule(epsilon, zb)
    if rule == "epsilon":
        conv, dense = eps, eps
    elif rule == "alphabeta":
        conv = dense = alphabeta_rule(alpha, beta, zb)
    elif rule == "epsilon_plus":
        conv, dense = alphabeta_rule(1.0, 0.0, zb), eps
    else:
        conv, dense = alphabeta_rule(2.0, 1.0, zb), eps
    layer_map = [
        (Activation, Pass()),
        (_elementwise_types(), Pass()),
        (Sum, Norm()),
        (AvgPool, Norm()),
        # an unmerged BatchNorm is a diagonal linear layer (merged ones get Pass by name below)
        (BatchNorm, Pass() if zb else epsilon_rule(epsilon, False)),
        (Convolution, conv),
        (nn.Linear, dense),
    ]
    if canonizers is None:
        canonizers = canonizers_for(model, example) if (canonize and model is not None) else []
    # A merged BatchNorm is an exact identity: the epsilon rule there would absorb relevance once
    # more per BatchNorm (for epsilon = 100 nearly all of it), so "epsilon on every layer" would
    # silently mean "on every layer and every BatchNorm". Merged ones pass relevance unchanged.
    merged = [bn for c in canonizers if isinstance(c, MergeBatchNormCanonizer) and c.pairs for _, bn in c.pairs]
    extra = [(name, Pass()) for name in merged] + list(extra_rules or [])
    if model is not None and hasattr(model, "lrp_rules"):
        extra = extra + list(model.lrp_rules())
    if not extra:
        return LayerMapComposite(layer_map, canonizers=list(canonizers))
    names = [(k, h) for k, h in extra if isinstance(k, str)]
    types = [(k, h) for k, h in extra if not isinstance(k, str)]
    by_name = NameMapComposite([([k], h) for k, h in names])
    by_type = LayerMapComposite(types + layer_map)

    def module_map(ctx, name, module):
        return by_name.mapping(ctx, name, module) or by_type.mapping(ctx, name, module)

    return Composite(module_map=module_map, canonizers=list(canonizers))


# --------------------------------------------------------------------------- relay hooks
class _Relay(torch.autograd.Function):
    """Identity on a layer's (detached) output whose backward is the LRP rule alone."""

    @staticmethod
    def forward(ctx, x, out, rule):
        ctx.rule = rule
        ctx.save_for_backward(x.detach())
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.rule(x, grad), None, None


def _relayable(inputs, output) -> bool:
    return (len(inputs) == 1 and isinstance(inputs[0], torch.Tensor) and inputs[0].requires_grad
            and isinstance(output, torch.Tensor) and torch.is_grad_enabled())


class RelayBasicHook(BasicHook):
    """A zennit ``BasicHook`` (same modifiers, mapper, reducer) applied through :class:`_Relay`.

    Only the layer's input is stored; the layer's ordinary backward never runs.
    """

    def __init__(self, template: BasicHook):
        super().__init__(template.input_modifiers, template.param_modifiers, template.output_modifiers,
                         template.gradient_mapper, template.reducer, template.param_keys,
                         template.require_params)
        # zennit's Norm modifies nothing either (identity input, no parameters)
        self.reuse_forward = bool(getattr(template, "reuse_forward", False)) or isinstance(template, Norm)

    def copy(self):
        return RelayBasicHook(self)

    def _forward(self, module, inputs, output):
        if not _relayable(inputs, output):
            return None
        if self.reuse_forward and output.grad_fn is not None:
            x_in, out = inputs[0], output

            def reuse(x, grad_out):
                grads = torch.autograd.grad([out], [x_in], grad_outputs=self.gradient_mapper(grad_out, [out]))
                return self.reducer([x], grads)

            return _Relay.apply(x_in, output.detach(), reuse)

        def rule(x, grad_out):  # zennit's BasicHook.backward, with grad_output handed in
            ins, outs = [], []
            kw = dict(param_keys=self.param_keys, require_params=self.require_params)
            for in_mod, param_mod, out_mod in zip(self.input_modifiers, self.param_modifiers, self.output_modifiers):
                inp = in_mod(x).requires_grad_()
                with mod_params(module, param_mod, **kw) as modified, torch.autograd.enable_grad():
                    outs.append(out_mod(modified.forward(inp)))
                ins.append(inp)
            grads = torch.autograd.grad(outs, ins, grad_outputs=self.gradient_mapper(grad_out, outs))
            return self.reducer(ins, grads)

        return _Relay.apply(inputs[0], output.detach(), rule)

    def register(self, module):
        return RemovableHandleList([module.register_forward_hook(self._forward)])


class RelayPass(Pass):
    """zennit's ``Pass`` (relevance passes an element-wise layer unchanged) through :class:`_Relay`."""

    def copy(self):
        return RelayPass()

    def _forward(self, module, inputs, output):
        if not _relayable(inputs, output) or inputs[0].shape != output.shape:
            return None
        return _Relay.apply(inputs[0], output.detach(), lambda x, g: g)

    def register(self, module):
        return RemovableHandleList([module.register_forward_hook(self._forward)])


def relay_composite(composite: Composite) -> Composite:
    """``composite`` with its ``BasicHook`` and ``Pass`` rules applied by relay hooks (in place).

    Same maps as zennit's hooks (same rule arithmetic); other hook types stay as they are. Not
    for callers that read gradients at intermediate layer outputs (CRP conditions, DFT-LRP's
    capture), which see the layer's own output tensor that the relay bypasses.
    """
    original = composite.module_map

    def module_map(ctx, name, module):
        hook = original(ctx, name, module)
        if type(hook) is Pass:
            return RelayPass()
        if isinstance(hook, BasicHook) and not isinstance(hook, RelayBasicHook):
            return RelayBasicHook(hook)
        return hook

    composite.module_map = module_map
    return composite


# --------------------------------------------------------------------------- attribution
def _prepare(model: nn.Module, X, target) -> tuple[torch.Tensor, torch.Tensor]:
    """``X`` as float32 on the model's device and ``target`` checked (``check_target``), ``(n,)``."""
    p = next(model.parameters(), None)
    dev = p.device if p is not None else torch.device("cpu")
    x = torch.as_tensor(X.detach() if isinstance(X, torch.Tensor) else np.asarray(X), dtype=torch.float32).to(dev)
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"X must have shape (n, ch, t) with n >= 1; got {tuple(x.shape)}")
    if target is None:
        with torch.no_grad():
            t = model(x).argmax(1)
    else:
        with torch.no_grad():
            n_classes = model(x[:1]).shape[1]
        t = check_target(target, len(x), n_classes).to(dev)
    return x, t


def lrp_relevance(model: nn.Module, X, target=None, composite: Composite | None = None, **composite_kw) -> np.ndarray:
    """Input relevance ``(n, ch, t)`` of ``model`` for class ``target``; relevance starts at the logit.

    ``X``: ``(n, ch, t)`` array or tensor. ``target``: int or ``(n,)`` (default: predicted class).
    ``composite``: a zennit composite (default ``make_composite(model=model, **composite_kw)``,
    i.e. LRP-epsilon). The model runs frozen in eval mode; the composite (and its canonizers) is
    registered only for this call.
    """
    if composite is not None and composite_kw:
        raise ValueError(f"give either a composite or composite keywords, not both ({sorted(composite_kw)})")
    with frozen(model):
        x, t = _prepare(model, X, target)
        if composite is None:
            composite = make_composite(model=model, example=x[:1], **composite_kw)

        def init(out):  # relevance at the output: the target logit, zero elsewhere
            return torch.zeros_like(out).scatter(1, t[:, None], out.gather(1, t[:, None]))

        with Gradient(model=model, composite=composite) as attributor:
            _, rel = attributor(x, init)
    return rel.detach().cpu().numpy().astype(np.float32)


def explained_logit(model: nn.Module, X, target=None) -> np.ndarray:
    """The logit that LRP starts from, ``(n,)`` (target class; default predicted)."""
    with frozen(model), torch.no_grad():
        x, t = _prepare(model, X, target)
        return model(x).gather(1, t[:, None])[:, 0].cpu().numpy()


def conservation(model: nn.Module, X, relevance: np.ndarray, target=None) -> np.ndarray:
    """Per sample ``sum(relevance) / logit`` ``(n,)``: 1 when relevance is conserved."""
    logit = explained_logit(model, X, target)
    total = np.asarray(relevance, float).reshape(len(logit), -1).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / logit


def canonized_outputs(model: nn.Module, X, canonizers: Sequence[Canonizer] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, n_classes)`` of the original and of the canonized model (should be equal)."""
    with frozen(model), torch.no_grad():
        x, _ = _prepare(model, X, 0)
        canonizers = canonizers_for(model, x[:1]) if canonizers is None else canonizers
        before = model(x).cpu().numpy()
        comp = Composite(canonizers=list(canonizers))
        with comp.context(model) as m:
            after = m(x).cpu().numpy()
        restored = model(x).cpu().numpy()
    if not np.allclose(before, restored, rtol=1e-5, atol=1e-6):  # pragma: no cover - zennit bug guard
        raise RuntimeError("model parameters were not restored after canonization")
    return before, after


# --------------------------------------------------------------------------- registry
def _run(rule: str, model, X, target, **kw) -> np.ndarray:
    # X[:1] traces the BatchNorm pairs of any model, also one without n_chans / n_times
    comp = relay_composite(make_composite(rule, model=model, example=X[:1], **kw))
    return lrp_relevance(model, X, target, comp)


_KW = "zero_params='bias' drops biases (exact conservation); canonize=True merges BatchNorm"


@register(
    "lrp_epsilon",
    domain="time",
    signed=True,
    description=f"LRP-epsilon on every conv/linear layer (epsilon=1e-6); {_KW}",
    paper="papers 3 and 4",
)
def lrp_epsilon(model, X, target, epsilon: float = 1e-6, zero_params: str | None = None, canonize: bool = True) -> np.ndarray:
    """LRP-epsilon map ``(n, ch, t)``, epsilon on every convolution and linear layer."""
    return _run("epsilon", model, X, target, epsilon=epsilon, zero_params=zero_params, canonize=canonize)


@register(
    "lrp_alphabeta",
    domain="time",
    signed=True,
    description=f"LRP-alpha-beta on every conv/linear layer (alpha=1, beta=0); {_KW}",
    paper="papers 3 and 4",
)
def lrp_alphabeta(
    model, X, target, alpha: float = 1.0, beta: float = 0.0, zero_params: str | None = None, canonize: bool = True
) -> np.ndarray:
    """LRP-alpha-beta map ``(n, ch, t)`` (``alpha - beta == 1``) on every convolution and linear layer."""
    return _run("alphabeta", model, X, target, alpha=alpha, beta=beta, zero_params=zero_params, canonize=canonize)


@register(
    "lrp_epsilon_plus",
    domain="time",
    signed=True,
    description=f"zennit EpsilonPlus: z+ on convolutions, epsilon on dense layers; {_KW}",
    paper="papers 3 and 4",
)
def lrp_epsilon_plus(model, X, target, epsilon: float = 1e-6, zero_params: str | None = None, canonize: bool = True) -> np.ndarray:
    """EpsilonPlus map ``(n, ch, t)``: z+ on convolutions, epsilon on ``nn.Linear``."""
    return _run("epsilon_plus", model, X, target, epsilon=epsilon, zero_params=zero_params, canonize=canonize)


@register(
    "lrp_epsilon_alpha2_beta1",
    domain="time",
    signed=True,
    description=f"zennit EpsilonAlpha2Beta1: alpha2-beta1 on convolutions, epsilon on dense layers; {_KW}",
    paper="paper 3",
)
def lrp_epsilon_alpha2_beta1(
    model, X, target, epsilon: float = 1e-6, zero_params: str | None = None, canonize: bool = True
) -> np.ndarray:
    """EpsilonAlpha2Beta1 map ``(n, ch, t)``: alpha=2, beta=1 on convolutions, epsilon on ``nn.Linear``."""
    return _run("epsilon_alpha2_beta1", model, X, target, epsilon=epsilon, zero_params=zero_params, canonize=canonize)
