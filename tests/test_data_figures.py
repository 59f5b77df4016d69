"""Figures of notebooks 00 and 02 say what a reader needs: an amplitude scale (00-example), a
subject legend and the real reference beside the simulation (02-realism)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eegnb.data import simulate  # noqa: E402
from eegnb.data.views import nice_scale, plot_realism, plot_traces  # noqa: E402


def test_nice_scale():
    assert [nice_scale(v) for v in (37.0, 100.0, 0.7, 9.99, 250.0)] == [20.0, 100.0, 0.5, 5.0, 200.0]
    assert nice_scale(0.0) == 1.0 and nice_scale(float("nan")) == 1.0


def test_traces_have_channel_names_and_a_scale_bar_in_microvolts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 256)) * 10  # µV
    truth = np.zeros_like(x)
    truth[2, 100:150] = 0.8
    ax = plot_traces(x, 128.0, ["Fz", "Cz", "Pz"], truth=truth)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Fz", "Cz", "Pz"]
    bar = nice_scale(4 * np.median(x.std(-1)))
    texts = [t.get_text() for t in ax.texts]
    assert f"{bar:g} µV" in texts
    # the bar is as long as its label says, on the traces' own scale
    lines = [ln for ln in ax.lines if len(ln.get_xdata()) == 2]
    assert len(lines) == 1 and np.isclose(np.ptp(lines[0].get_ydata()), bar)
    assert ax.get_legend() is not None and "truth >= 0.5" in ax.get_legend().get_texts()[0].get_text()
    plt.close(ax.figure)


@pytest.fixture(scope="module")
def sims():
    return {k: simulate(k, n_subjects=2, seed=0, quick=True) for k in ("deap", "seed")}


def test_realism_figure_legends_and_reference(sims):
    ref = simulate("eegbci", n_subjects=1, seed=1, quick=True)
    fig = plot_realism(sims, reference={"EEGBCI S001 (real)": ref})
    ax_corr, ax_psd, ax_pca = fig.axes[:3]
    for ax in (ax_corr, ax_psd):
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert len(labels) == 3 and any(lbl.startswith("EEGBCI S001 (real)") for lbl in labels)
    subj = [t.get_text() for t in ax_pca.get_legend().get_texts()]
    assert subj == [f"subject {s}" for s in sims["seed"].subjects]
    assert "real reference" in fig._suptitle.get_text()
    plt.close(fig)
    fig = plot_realism(sims, reference=None, reference_note="not found at 'x'")
    assert "no real reference (not found at 'x')" in fig._suptitle.get_text()
    assert any("no real reference" in t.get_text() for t in fig.axes[1].texts)
    assert all(len(ax.get_legend().get_texts()) == 2 for ax in fig.axes[:2])
    plt.close(fig)
