"""Paper 1: context-aware perturbation mask, removal games, and notebooks 10/11 (quick mode)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, explain
from eegnb.explain.context_mask import ContextMask, area_loss, context_perturbation, context_pool
from eegnb.metrics.removal import (
    element_scores,
    group_scores,
    random_maps,
    removal_accuracy,
    removal_game,
    remove,
    select,
)

REGION = (slice(3, 7), slice(20, 40))  # the toy model reads only these channels x samples


class RegionModel(torch.nn.Module):
    """Output depends only on ``x[:, 3:7, 20:40]`` through a small nonlinear readout."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(4 * 20, 8, generator=g) / 9)
        self.v = torch.nn.Parameter(torch.randn(8, 2, generator=g))

    def forward(self, x):
        h = torch.tanh(x[:, REGION[0], REGION[1]].reshape(len(x), -1) @ self.w)
        return h @ self.v


def _toy(n=6, ch=12, t=64, seed=0):
    return torch.randn(n, ch, t, generator=torch.Generator().manual_seed(seed))


def _tiny_cnn(ch=8, t=64):
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, ch)),
        torch.nn.Conv2d(1, 4, (1, 9), padding=(0, 4)),
        torch.nn.BatchNorm2d(4),
        torch.nn.ELU(),
        torch.nn.Conv2d(4, 4, (ch, 1)),
        torch.nn.ELU(),
        torch.nn.AdaptiveAvgPool2d((1, 8)),
        torch.nn.Flatten(),
        torch.nn.Linear(32, 2),
    )


# --------------------------------------------------------------------------- the method
def test_registered_with_paper_and_domain():
    m = METHODS["context_mask"]
    assert m.domain == "time" and not m.signed and "Wang" in m.paper


@pytest.mark.parametrize("parametrization", ["sigmoid", "clamp"])
def test_shape_range_and_model_untouched(parametrization):
    X = _toy(4, 8, 64)
    model = _tiny_cnn()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    M = explain(
        "context_mask", model, X, epochs=15, progress=False, parametrization=parametrization
    )
    assert M.shape == X.shape and M.dtype == np.float32
    assert (M >= 0).all() and (M <= 1).all()
    assert not np.allclose(M, 0.9)  # the optimiser moved the mask
    assert model.training  # explain() restores the mode
    for k, v in model.state_dict().items():  # frozen: no weight and no BN statistic changed
        assert torch.equal(v, before[k]), k


def test_pooling_keeps_shape_and_averages_real_neighbours():
    X = _toy(2, 5, 11)
    for dim, kernel in [(2, 15), (2, 4), (1, 28), (1, 3), (2, 1)]:
        assert context_pool(X, kernel, dim).shape == X.shape
    # odd kernel: centred window; edges average only the available neighbours (no zeros pulled in)
    out = context_pool(X, 3, dim=2)
    np.testing.assert_allclose(out[..., 5], X[..., 4:7].mean(-1), rtol=1e-5)
    np.testing.assert_allclose(out[..., 0], X[..., 0:2].mean(-1), rtol=1e-5)
    np.testing.assert_allclose(out[..., -1], X[..., -2:].mean(-1), rtol=1e-5)
    # even kernel 4: window i-1 .. i+2 (one more element after than before)
    out = context_pool(X, 4, dim=2)
    np.testing.assert_allclose(out[..., 5], X[..., 4:8].mean(-1), rtol=1e-5)
    # along channels; a kernel longer than the axis averages the available part
    out = context_pool(X, 28, dim=1)
    np.testing.assert_allclose(out[:, 0], X[:, :5].mean(1), rtol=1e-5)
    np.testing.assert_allclose(out[:, 2], X[:, :5].mean(1), rtol=1e-5)
    # a constant signal is its own context
    c = torch.full((1, 5, 11), 2.5)
    np.testing.assert_allclose(context_pool(c, 15, 2), c, rtol=1e-6)
    with pytest.raises(ValueError, match="kernel"):
        context_pool(X, 0, 2)


def test_softmax_fusion():
    X = _toy(2, 6, 30)
    P, Ct, Cs, wt = context_perturbation(X, 5, 4, return_parts=True)
    expected_wt = torch.exp(Ct) / (torch.exp(Ct) + torch.exp(Cs))
    np.testing.assert_allclose(wt, expected_wt, rtol=1e-5)
    np.testing.assert_allclose(P, expected_wt * Ct + (1 - expected_wt) * Cs, rtol=1e-5, atol=1e-6)
    # P lies between the two contexts, nearer the larger one
    lo, hi = torch.minimum(Ct, Cs), torch.maximum(Ct, Cs)
    assert ((P >= lo - 1e-6) & (P <= hi + 1e-6)).all()
    assert ((P - lo) >= (hi - P) - 1e-6).all()


def test_no_context_is_plain_scaling():
    X = _toy(2, 6, 30)
    assert torch.equal(ContextMask(context=False).perturbation(X), torch.zeros_like(X))


def test_area_loss_is_norm_of_lowest_fraction():
    M = torch.tensor([[[0.9, 0.1], [0.5, 0.3]]])
    # lowest half: 0.1, 0.3 -> sqrt(0.01 + 0.09)
    np.testing.assert_allclose(area_loss(M, 0.5), [np.sqrt(0.1)], rtol=1e-5)
    np.testing.assert_allclose(area_loss(M, 0.0), [0.0])
    M = M.clone().requires_grad_(True)
    area_loss(M, 0.5).sum().backward()
    g = M.grad[0]
    assert g[0, 0] == 0 and g[1, 0] == 0 and g[0, 1] > 0 and g[1, 1] > 0  # only the lowest half
    # constant mask: stable sort cuts the first elements (the one-stage bias of paper Fig. 5)
    C = torch.full((1, 4, 3), 0.9, requires_grad=True)
    area_loss(C, 0.5).sum().backward()
    assert (C.grad[0, :2] > 0).all() and (C.grad[0, 2:] == 0).all()


def test_area_limitation_switches_off_half_after_warmup():
    X = _toy(3, 8, 64)
    model = _tiny_cnn()
    cfg = dict(epochs=80, progress=False, early_stopping=False)  # the paper's fixed schedule
    free = ContextMask(**cfg).attribute(model, X)
    lim = ContextMask(area=0.5, warmup_epochs=40, area_weight=0.5, **cfg).attribute(model, X)
    low = lambda m: np.sort(m.reshape(len(m), -1), 1)[:, : m[0].size // 2].mean()  # noqa: E731
    assert low(lim.mask) < 0.5 * low(free.mask)
    # the area term only joins after the warm-up: identical trajectories before it
    np.testing.assert_allclose(lim.error[:40], free.error[:40], rtol=1e-4)
    assert lim.loss[45] > lim.error[45]
    with pytest.raises(ValueError, match="warmup_epochs"):
        ContextMask(epochs=50, area=0.5, warmup_epochs=100)


def test_batched_equals_one_at_a_time():
    X = _toy(4, 8, 64)
    model = _tiny_cnn().eval()
    cm = ContextMask(epochs=25, progress=False, seed=3)
    batched = cm(model, X)
    single = np.concatenate([cm(model, X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(batched, single, atol=2e-4)
    # and through explain() with batch_size
    np.testing.assert_allclose(
        explain("context_mask", model, X, batch_size=2, epochs=25, progress=False, seed=3),
        batched,
        atol=2e-4,
    )


def test_mask_stays_high_on_the_region_the_model_reads():
    X = _toy(6, 12, 64)
    model = RegionModel()
    res = ContextMask(
        epochs=100, progress=False, temporal_kernel=5, spatial_kernel=4, early_stopping=False
    ).attribute(model, X)
    inside = np.zeros(X.shape[1:], bool)
    inside[REGION] = True
    # elements the model never reads get no gradient and keep the initial 0.9
    np.testing.assert_allclose(res.mask[:, ~inside], 0.9, atol=1e-6)
    assert np.abs(res.mask[:, inside] - 0.9).mean() > 0.01
    # the error part of the loss goes down
    assert res.error[-1] < res.error[0]


def test_mse_loss_and_bad_keywords():
    X = _toy(2, 8, 64)
    M = explain("context_mask", _tiny_cnn(), X, epochs=5, loss="mse", progress=False)
    assert M.shape == X.shape
    with pytest.raises(ValueError, match="unknown context_mask keyword"):
        explain("context_mask", _tiny_cnn(), X, epoch=5)
    with pytest.raises(ValueError, match="loss"):
        ContextMask(loss="l1")
    with pytest.raises(ValueError, match="init"):
        ContextMask(init=1.0)


def test_area_switch_and_keyword_validation():
    # area=True is the paper's a = 0.5 (not a = 1, which would switch every element off)
    assert ContextMask(area=True).area == 0.5 and ContextMask(area=False).area is None
    assert ContextMask().area is None  # off by default
    for bad in (dict(temporal_kernel=0), dict(spatial_kernel=2.5), dict(temporal_kernel=0, context=False)):
        with pytest.raises(ValueError, match="kernel"):
            ContextMask(**bad)
    with pytest.raises(ValueError, match="warmup_epochs"):
        ContextMask(warmup_epochs=-1)
    with pytest.raises(ValueError, match="area"):
        ContextMask(area=1.5)
    with pytest.raises(ValueError, match="epochs"):
        ContextMask(epochs=0)
    with pytest.raises(ValueError, match="lr"):
        ContextMask(lr=0)
    with pytest.raises(ValueError, match="parametrization"):
        ContextMask(parametrization="softplus")
    with pytest.raises(ValueError, match=r"\(n, ch, t\)"):
        ContextMask(epochs=2, progress=False).attribute(_tiny_cnn(), torch.zeros(8, 64))


def test_paper_defaults():
    cm = ContextMask()
    assert (cm.epochs, cm.lr, cm.init, cm.area_weight, cm.warmup_epochs) == (200, 0.1, 0.9, 0.05, 100)
    assert (cm.temporal_kernel, cm.spatial_kernel, cm.context, cm.loss) == (15, 28, True, "ce")


# --------------------------------------------------------------------------- removal games
def test_scores_selection_and_removal():
    maps = np.zeros((2, 4, 10))
    maps[0, 2] = 1.0
    maps[1, :, 7] = 5.0
    ch = element_scores(maps, "channel")
    assert ch.shape == (2, 4) and ch[0].argmax() == 2
    ts = element_scores(maps, "time")
    assert ts.shape == (2, 10) and ts[1].argmax() == 7
    top = select(ch, 1, "top")
    # row 1's four channels tie: a tie group is kept whole (average rank 2.5 > 1.5: not chosen)
    assert top[0, 2] and top[0].sum() == 1 and not top[1].any()
    assert select(ch, 2, "top")[1].all()  # average rank 2.5 <= 2.5: the whole group
    bottom = select(ch, 3, "bottom")
    assert not bottom[0, 2] and bottom[0].sum() == 3 and bottom[1].all()
    X = np.ones((2, 4, 10), np.float32)
    Xr = remove(X, top, "channel")
    assert Xr[0, 2].sum() == 0 and Xr[0].sum() == 30 and X.sum() == 80
    Xt = remove(X, select(ts, 1, "top"), "time")
    assert Xt[1, :, 7].sum() == 0
    g = group_scores(ch, np.array([0, 0]))
    np.testing.assert_allclose(g[0], g[1])
    with pytest.raises(ValueError, match="k must be"):
        select(ch, 5)


def test_ties_kept_whole_not_by_position_or_at_random():
    """No random and no positional tie-breaking: a flat map selects all or nothing, and its
    removal accuracy lies on the straight line between removing nothing and everything."""
    flat = np.zeros((200, 10))
    assert not select(flat, 1, "top", seed=0).any() and not select(flat, 4, "top").any()
    assert select(flat, 5, "top").all() and select(flat, 6, "bottom").all()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 12, 64)).astype(np.float32)
    model = RegionModel()
    with torch.no_grad():
        y = model(torch.as_tensor(X)).argmax(1).numpy()
    acc_all = float((model(torch.zeros(100, 12, 64)).argmax(1).numpy() == y).mean())
    for k in (0, 3, 12):
        acc = removal_accuracy(model, X, y, np.ones_like(X), k=k, order="top")
        np.testing.assert_allclose(acc, (1 - k / 12) * 1.0 + k / 12 * acc_all, atol=1e-9)
    # the seed must not matter (there is no random draw)
    assert removal_accuracy(model, X, y, np.ones_like(X), k=3, seed=1) == removal_accuracy(
        model, X, y, np.ones_like(X), k=3, seed=2
    )


def test_removal_game_on_region_model():
    """A map marking the region the model reads hurts most when removed; random in between."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 12, 64)).astype(np.float32)
    model = RegionModel()
    with torch.no_grad():
        # the model's own labels, so accuracy is 1 before removal
        y = model(torch.as_tensor(X)).argmax(1).numpy()
    good = np.zeros_like(X)
    good[:, REGION[0], REGION[1]] = 1.0
    acc_top = removal_accuracy(model, X, y, good, k=4, order="top")
    acc_bottom = removal_accuracy(model, X, y, good, k=4, order="bottom")
    assert acc_bottom == 1.0 and acc_top < 0.8
    df = removal_game(model, X, y, {"good": good}, ks=(2, 4), level="group")
    assert set(df.method) == {"none", "good", "random"}
    assert df.query("method == 'none'").acc.item() == 1.0
    r = random_maps(X.shape, seed=1)
    assert r.shape == X.shape and np.allclose(r, random_maps(X.shape, seed=1))


# --------------------------------------------------------------------------- orchestration and figures
def _fake_results():
    """A small Results object shaped like ctx.run's output (2 subjects, 1 model, 1 label)."""
    import pandas as pd

    from eegnb.experiments.context_mask import Config, Results

    rows = []
    for s in (1, 2):
        rows.append(
            dict(
                label="arousal",
                subject=s,
                model="eegnet",
                experiment="channel-instance",
                method="none",
                axis="channel",
                level="instance",
                order="none",
                k=0,
                acc=1.0,
            )
        )
        for m, top in (("context", 0.7), ("gradient", 0.5), ("random", 0.9)):
            for order, acc in (("top", top + 0.05 * s), ("bottom", 1.0)):
                rows.append(
                    dict(
                        label="arousal",
                        subject=s,
                        model="eegnet",
                        experiment="channel-instance",
                        method=m,
                        axis="channel",
                        level="instance",
                        order=order,
                        k=6,
                        acc=acc,
                    )
                )
    acc = pd.DataFrame(rows)
    curve = acc.assign(experiment="channel-curve")
    curve = pd.concat(
        [curve[curve.order != "bottom"], curve[curve.order == "top"].assign(k=2, acc=0.9)]
    )
    auc = pd.DataFrame(
        [
            dict(
                label="arousal",
                subject=s,
                model="eegnet",
                method=m,
                auc=a + 0.01 * s,
                channel_auc=a,
            )
            for s in (1, 2)
            for m, a in (("context", 0.6), ("gradient", 0.8), ("random", 0.5))
        ]
    )
    return Results(
        acc=pd.concat([acc, curve], ignore_index=True),
        auc=auc,
        models=pd.DataFrame(),
        examples={},
        config=Config(),
        seconds=0.0,
    )


def test_summaries_headline_and_sem():
    from eegnb.experiments import context_mask as ctx

    res = _fake_results()
    tab = ctx.removal_table(res, "channel-instance", 6)
    row = tab[(tab.method == "context") & (tab.order == "top")].iloc[0]
    assert row["n"] == 2 and np.isclose(row["mean"], 0.775) and np.isclose(row["sem"], 0.025)
    h = ctx.headline(res)
    assert (
        h["context_top"] < h["context_bottom"]
        and h["before"] == 1.0
        and np.isclose(h["auc_gradient"], 0.815)
    )
    d = ctx.drops(res, "channel-instance", 6)
    assert np.allclose(d[(d.method == "gradient") & (d.order == "top")]["drop"], [0.45, 0.4])
    assert "0.775 ± 0.025" in ctx.wide(tab).to_string()
    assert ctx.sem([1.0]) == 0.0 and np.isclose(ctx.sem([1.0, 3.0]), 1.0)
    nested = ctx.record_dict(tab, ["label", "model", "method", "order"])
    assert nested["arousal"]["eegnet"]["gradient"]["top"] == 0.575


def test_pairwise_correlation_and_configs():
    from eegnb.experiments import context_mask as ctx

    same = np.repeat(np.random.default_rng(0).random((1, 3, 8)), 4, axis=0)
    assert np.isclose(ctx.pairwise_correlation(same), 1.0)
    assert abs(ctx.pairwise_correlation(np.random.default_rng(1).random((20, 3, 8)))) < 0.2
    q, d = ctx.config(True), ctx.config(False)
    assert (
        q.subjects < d.subjects
        and q.mask["epochs"] < d.mask["epochs"]
        and set(q.models) <= set(d.models)
    )
    # both notebooks derive the same sizes, so they share trained models through the cache
    assert ctx.config(True) == q and q.mask_kw("area")["warmup_epochs"] == q.area_warmup
    assert (
        q.mask_kw("one_stage")["warmup_epochs"] == 0 and q.mask_kw("no_context")["context"] is False
    )
    with pytest.raises(ValueError, match="variant"):
        q.mask_kw("nope")
    with pytest.raises(ValueError, match="dataset"):
        ctx.load_data(ctx.with_(q, dataset="mnist"), "arousal")


def test_paper_scale_config():
    from eegnb.experiments import context_mask as ctx

    p = ctx.config(False, dataset="deap", data_dir="/x", paper_scale=True)
    assert p.subjects == 32 and p.mask["epochs"] == 200 and p.area_warmup == 100
    assert set(p.models) == {"eegnet", "tsception", "deepconvnet"} and set(p.labels) == {"arousal", "valence"}
    assert p.dataset == "deap" and p.data_dir == "/x" and "data_dir" not in p.key()
    kw = p.mask_kw("area")
    assert (kw["area"], kw["area_weight"], kw["warmup_epochs"]) == (0.5, 0.05, 100)
    ContextMask(**kw)  # a valid configuration
    assert ctx._matches(p.no_context_on, "tsception", "arousal") and ctx._matches(p.area_on, "eegnet", "valence")


def test_mask_maps_cached_by_inputs(tmp_path, monkeypatch):
    from eegnb.experiments import context_mask as ctx

    calls = []
    orig = ContextMask.attribute

    def counting(self, *a, **k):
        calls.append(self.epochs)
        return orig(self, *a, **k)

    monkeypatch.setattr(ContextMask, "attribute", counting)
    cfg = ctx.with_(ctx.config(True), mask=dict(epochs=3, lr=0.1, init=0.9), area_warmup=1)
    X = _toy(2, 8, 64).numpy()
    model = _tiny_cnn().eval()
    a = ctx.mask_maps(cfg, model, X, cache_dir=tmp_path)
    b = ctx.mask_maps(cfg, model, X, cache_dir=tmp_path)
    assert len(calls) == 1 and np.array_equal(a.mask, b.mask)
    ctx.mask_maps(cfg, model, X, "area", cache_dir=tmp_path)
    ctx.mask_maps(cfg, model, X[:1], cache_dir=tmp_path)
    assert len(calls) == 3


def test_figures_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eegnb.plots import context as cplots

    res = _fake_results()
    figs = [
        cplots.plot_removal_bars(res.acc, "channel-instance", labels=["arousal"], k=6),
        cplots.plot_removal_curves(
            res.acc, methods=["context", "gradient", "random"], panels=[("arousal", "eegnet")]
        ),
        cplots.plot_localisation(res.auc, methods=["context", "gradient", "random"]),
    ]
    X = _toy(2, 4, 32).numpy()
    names = ["C1", "C2", "C3", "C4"]
    figs.append(
        cplots.plot_example_maps(
            {"gradient": X, "context": X},
            ["gradient", "context"],
            ch_names=names,
            sfreq=16.0,
            truth=(X > 1).astype(float),
        )
    )
    P, Ct, Cs, wt = context_perturbation(torch.as_tensor(X[:1]), 5, 3, return_parts=True)
    figs.append(
        cplots.plot_context_parts(
            X[0],
            {"P": P[0].numpy()},
            ch_names=names,
            sfreq=16.0,
            channels=["C1"],
            w_t=wt[0].numpy(),
            truth=(X[0] > 1).astype(float),
        )
    )
    r = ContextMask(epochs=4, progress=False).attribute(_tiny_cnn(), _toy(2, 8, 64))
    assert r.divergence.shape == (4,) and (r.divergence > -1e-4).all()  # KL >= 0
    figs.append(cplots.plot_loss_curves({"a": r}, n=2, warmup=2))
    figs.append(
        cplots.plot_speed(
            dict(n=2, epochs=3, batched_s_per_sample=0.1, single_s_per_sample=0.2, speedup=2.0)
        )
    )
    for f in figs:
        assert len(f.axes) >= 1
        plt.close(f)


# --------------------------------------------------------------------------- notebooks (quick mode)
@pytest.mark.notebook
def test_notebook_10_method(run_notebook):
    r = run_notebook("10_context_mask_method")
    assert r["test_acc"] >= 0.75  # the explained model learned the planted evidence
    # batched optimisation gives the one-at-a-time masks
    assert r["speed"]["max_abs_diff"] < 1e-3
    # one-stage area limitation switches off the first channels whatever the input (paper Fig. 5);
    # two-stage training does not
    h = r["area_channel_halves"]
    assert h["one_stage"]["first_half"] < 0.3 * h["one_stage"]["second_half"]
    assert abs(h["area"]["first_half"] - h["area"]["second_half"]) < 0.15
    # gradient maps of different segments resemble each other more than the masks do (paper Fig. 1),
    # and a random map resembles nothing: the check is reported against it
    c = r["pairwise_map_correlation"]
    assert c["gradient"] > c["context"] + 0.1 and abs(c["random"]) < 0.05
    loc = r["localisation_auc"]
    assert loc["gradient"] > loc["random"] + 0.1 and abs(loc["random"] - 0.5) < 0.05
    # the mechanism: the mask follows sign(a), not |a|; |a| localises, the learned mask much less
    assert r["mechanism_moved"]["mean"] > 0.5 and abs(r["mechanism_spearman"]["mean"]) < 0.3
    assert r["mechanism_auc_abs_a"]["lo"] > r["mechanism_auc_mask"]["hi"]
    # the sensitivity table holds every variant and the controls; the oracle localises perfectly
    s = r["sensitivity"]
    assert {"clamp, soft", "sigmoid, one-hot, area", "gradient", "random", "oracle"} <= set(s)
    assert s["oracle"]["auc"]["mean"] > 0.99 and abs(s["random"]["auc"]["mean"] - 0.5) < 0.05
    # per-sample early stopping at least halves the epochs (issue 17) at about the same AUC
    e = r["early_stopping"]
    assert e["epoch_ratio"] <= 0.5 and abs(e["auc_change"]) < 0.05


@pytest.mark.notebook
def test_notebook_11_experiments(run_notebook):
    r = run_notebook("11_context_mask_experiments")
    h = r["headline"]
    assert h["before"] >= 0.75
    # time steps: the direction must hold; the paper's margin (Fig. 8) is checked separately below
    assert h["time_context_top"] <= h["time_context_bottom"]
    # the game is sensitive: the gradient's six top channels cost accuracy; random ones cost less
    assert h["gradient_top"] < h["before"] - 0.2 and h["random_top"] > h["gradient_top"]
    # localisation: gradient finds the planted evidence, the random control sits at chance
    assert h["auc_gradient"] > h["auc_random"] + 0.1 and abs(h["auc_random"] - 0.5) < 0.05
    assert set(r["localisation_auc"]) >= {"context", "no_context", "area", "gradient", "random"}
    # deletion curves: every map and both controls on both axes; the oracle's curve falls faster than random's
    d = r["deletion_area_ci"]
    for ax in ("channel", "time"):
        assert {"context", "area", "gradient", "random", "oracle"} <= set(d[ax])
        assert d[ax]["oracle"]["mean"] < d[ax]["random"]["mean"]
    # the paper's fixed budget (no early stopping) in every mask of the experiments
    assert set(r["mask_epochs_run"].values()) == {60.0}
    assert r["parameters"]["eegnet"] == {"ours": 2130, "paper": 1210, "matches": "no (see note)"}


@pytest.mark.notebook
@pytest.mark.xfail(strict=True, reason=(
    "paper 1, Fig. 6: removing the context mask's six most salient channels costs clearly more than "
    "its six least salient. Not reproduced at quick size with the paper-faithful clamped mask "
    "(0.875 vs 0.9375 on 16 segments, measured): the mask follows sign(a), not |a| (notebook 10). "
    "strict: if this starts to pass, fold it back into the test above."))
def test_notebook_11_channel_removal_margin(run_notebook):
    h = run_notebook("11_context_mask_experiments")["headline"]
    assert h["context_top"] < h["context_bottom"] - 0.1


@pytest.mark.notebook
@pytest.mark.xfail(strict=True, reason=(
    "paper 1, Fig. 8: removing the mask's top time steps costs clearly more than its bottom ones. "
    "Not reproduced at quick size on the volume-conducted simulation (0.9375 vs 0.9375 on 16 "
    "segments with the clamped mask on the paper's fixed budget, measured; 0.875 vs 0.9375 with "
    "the former sigmoid mask): the models read the planted band power on neighbouring channels "
    "and outside the planted window. strict: if this starts to pass, fold it back into the test above."))
def test_notebook_11_time_removal_margin(run_notebook):
    h = run_notebook("11_context_mask_experiments")["headline"]
    assert h["time_context_top"] < h["time_context_bottom"] - 0.1


@pytest.mark.notebook
@pytest.mark.xfail(strict=True, reason=(
    "the context mask localises the planted evidence above chance (AUC > 0.56, quick size, measured "
    "0.62 with the former sigmoid mask). With the paper-faithful clamped mask on the paper's fixed "
    "budget it measured 0.54 (random 0.50): the mask follows sign(a), not |a| (notebook 10's "
    "mechanism cell). strict: if this starts to pass, fold it back into test_notebook_11_experiments."))
def test_notebook_11_context_localises(run_notebook):
    h = run_notebook("11_context_mask_experiments")["headline"]
    assert h["auc_context"] > 0.56 and h["auc_context"] > h["auc_random"] + 0.05
