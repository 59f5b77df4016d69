"""``Notebook.report``: conclusions rendered from the run's records, verdicts from intervals."""

from __future__ import annotations

import numpy as np
import pytest

from eegnb.notebook import RECORD_MIME, Notebook, render
from eegnb.stats import format_ci, mean_ci


@pytest.fixture
def nb(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    n = Notebook("99")
    n.shown = shown
    return n


def test_record_keeps_json_form(nb):
    nb.record("acc", np.float32(0.5))
    nb.record("per_fold", np.array([0.25, 0.75]))
    nb.record("bad", float("nan"))
    assert nb.records == {"acc": 0.5, "per_fold": [0.25, 0.75], "bad": None}
    assert nb.shown[0][RECORD_MIME] == {"acc": 0.5}


def test_nested_formatting_and_extra(nb):
    nb.record("auc", {"gradient": 0.7912, "random": 0.5049})
    nb.record("per_fold", [0.9, 0.8125])
    nb.record("table", {"W": {"EEG": 12.345}})
    text = nb.report(
        "gradient {auc[gradient]:.2f} vs random {auc[random]:.3f}; fold 2 {per_fold[1]:.1%}; "
        "W EEG {table[W][EEG]:.1f}; {word}",
        word="done",
    )
    assert text == "gradient 0.79 vs random 0.505; fold 2 81.2%; W EEG 12.3; done"
    # extra overrides a record of the same name
    assert nb.report("{per_fold}", per_fold="x") == "x"


def test_missing_key_raises_listing_known_keys(nb):
    nb.record("test_acc", 0.9)
    nb.record("auc", {"gradient": 0.8})
    with pytest.raises(KeyError, match=r"test_ac\b.*known keys.*'auc'.*'test_acc'"):
        nb.report("accuracy {test_ac:.2f}")
    with pytest.raises(KeyError, match=r"auc has no 'context'.*'gradient'"):
        nb.report("{auc[context]:.2f}")
    with pytest.raises(KeyError, match="list of 1"):
        nb.record("folds", [0.5])
        nb.report("{folds[3]}")
    assert "report" not in nb.records  # nothing half-rendered is recorded


def test_report_is_displayed_as_markdown_and_recorded(nb):
    nb.record("acc", 0.875)
    first = nb.report("\nAccuracy **{acc:.2f}**.\n")
    second = nb.report("Again {acc:.1f}.")
    assert first == "Accuracy **0.88**." and second == "Again 0.9."
    assert nb.records["report"] == [first, second]
    bundle = nb.shown[-1]
    assert bundle["text/markdown"] == second and bundle["text/plain"] == second
    assert bundle[RECORD_MIME] == {"report": [first, second]}  # read_records keeps the last, i.e. all


def test_ci_renders_format_ci(nb):
    r = nb.record_ci("auc_subjects", [0.7, 0.8, 0.9, 0.75], unit_name="subject")
    assert nb.records["auc_subjects"]["unit"] == "subject" and nb.records["auc_subjects"]["n_units"] == 4
    assert nb.ci("auc_subjects") == format_ci(r) == nb.report("{auc_subjects:ci}")
    assert nb.report("{auc_subjects:ci.3f}") == format_ci(r, ".3f")
    assert nb.ci([0.7, 0.8, 0.9, 0.75]) == format_ci(mean_ci([0.7, 0.8, 0.9, 0.75]))
    # one unit: no interval, only the mean; NaN recorded as None renders n/a
    nb.record_ci("one", [0.6], unit_name="seed")
    assert nb.ci("one") == "0.60"
    nb.record("gone", None)
    assert nb.report("{gone:.2f}") == "n/a"
    with pytest.raises(KeyError, match="known keys"):
        nb.ci("nope")


def test_verdict_comes_from_intervals(nb):
    nb.record_ci("high", [0.90, 0.92, 0.91, 0.93], unit_name="subject")
    nb.record_ci("low", [0.50, 0.52, 0.51, 0.49], unit_name="subject")
    nb.record_ci("wide", [0.40, 0.99, 0.60, 0.95], unit_name="subject")
    names = ("mask", "gradient")
    assert nb.verdict("high", "low", names=names) == "mask beats gradient"
    assert nb.verdict("low", "high", names=names) == "gradient beats mask"
    # lower is better flips the winner
    assert nb.verdict("high", "low", names=names, higher_is_better=False) == "gradient beats mask"
    # overlapping intervals: no verdict even though the means differ
    assert nb.records["wide"]["mean"] < nb.records["high"]["mean"]
    assert nb.verdict("wide", "high", names=names) == "not separated"
    # one unit has no interval: never separated, however far apart the means are
    nb.record_ci("single", [0.1], unit_name="seed")
    assert nb.verdict("single", "high", names=names) == "not separated"
    assert nb.report("{v}", v=nb.verdict("high", "low", names=names)) == "mask beats gradient"


def test_vs_paper(nb):
    nb.record_ci("acc", [0.90, 0.92, 0.91, 0.93], unit_name="subject")
    assert nb.vs_paper("acc", 0.91).startswith("reproduces the paper's 0.91")
    assert nb.vs_paper("acc", 0.80).startswith("does not reproduce") and "above" in nb.vs_paper("acc", 0.80)
    assert "below" in nb.vs_paper("acc", 0.99)
    nb.record_ci("one", [0.9])
    assert nb.vs_paper("one", 0.9).startswith("cannot be compared")


def test_render_without_notebook():
    assert render("{a[b][0]:.1f}", {"a": {"b": [1.25]}}) == "1.2"
    with pytest.raises(KeyError, match="positional"):
        render("{0}", {})
