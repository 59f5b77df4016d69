"""The ``eegnb`` command line on foreign models and MNE epochs files.

Foreign model: a plain ``torch.nn.Sequential`` (no eegnb class), saved as TorchScript or as a
``state_dict`` with a ``module:function`` builder. Epochs: a synthetic ``EpochsArray`` with
10-20 channel names (always runs) and the real EEGBCI S001 imagery epochs from
``../shared/data/eegmmidb`` (``realdata``; skipped when absent). Every run goes through
``python -m eegnb.cli`` in a subprocess, as a user would call it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (or two up, from a worktree under /work/wt/<name>)
SHARED = next((p / "shared" / "data" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "data").is_dir()),
              ROOT.parent / "shared" / "data")
CH = ["Fz", "C3", "Cz", "C4", "P3", "Pz", "P4", "Oz"]
SFREQ, N_TIMES = 64.0, 128

BUILDER_SRC = '''
import torch

def make(n_chans, n_classes):
    return torch.nn.Sequential(torch.nn.Conv1d(n_chans, 4, 5), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(4, n_classes))
'''


def foreign(n_chans: int, n_classes: int = 2) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv1d(n_chans, 4, 5), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(), torch.nn.Linear(4, n_classes))


def save_script(model: torch.nn.Module, path: Path) -> Path:
    torch.jit.save(torch.jit.script(model), str(path))
    return path


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "eegnb.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """A synthetic epochs file: 6 epochs x 8 channels x 2 s at 64 Hz (volts), two event types."""
    import mne

    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, len(CH), N_TIMES)) * 10e-6
    info = mne.create_info(CH, SFREQ, "eeg")
    events = np.column_stack([np.arange(6) * N_TIMES, np.zeros(6, int), [1, 2] * 3])
    ep = mne.EpochsArray(X, info, events=events, event_id={"left": 1, "right": 2}, tmin=-0.5, verbose="error")
    ep.set_montage("standard_1020")
    ep.save(d / "synth-epo.fif", verbose="error")
    save_script(foreign(len(CH)), d / "foreign.pt")
    (d / "mybuilder.py").write_text(BUILDER_SRC)
    torch.save(foreign(len(CH)).state_dict(), d / "foreign_state.pt")
    return d


def _load(out: Path) -> dict:
    with np.load(out / "maps.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_time_method_on_torchscript(synth):
    r = cli("explain", "--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "gradient",
            "--out", "out_grad", cwd=synth)
    assert r.returncode == 0, r.stderr
    z = _load(synth / "out_grad")
    assert z["maps"].shape == (6, len(CH), N_TIMES)
    assert z["ch_names"].tolist() == CH
    assert np.allclose(z["times"], -0.5 + np.arange(N_TIMES) / SFREQ)
    assert str(z["method"]) == "gradient" and float(z["sfreq"]) == SFREQ
    assert (z["target"] == z["predicted"]).all() and z["proba"].shape == (6, 2)
    assert (synth / "out_grad" / "maps.png").stat().st_size > 5000
    # the maps are the model's: the same call in Python gives the same numbers (µV input)
    import mne

    from eegnb.explain import explain

    X = mne.read_epochs(synth / "synth-epo.fif", verbose="error").get_data() * 1e6
    ref = explain("gradient", torch.jit.load(str(synth / "foreign.pt")), X.astype(np.float32))
    np.testing.assert_allclose(z["maps"], ref, rtol=1e-4, atol=1e-8)


def test_lrp_on_state_dict_with_module_builder_and_labels(synth):
    r = cli("explain", "--model", "foreign_state.pt", "--builder", "mybuilder:make", "--epochs", "synth-epo.fif",
            "--method", "lrp_epsilon", "--method-kw", "epsilon=1e-6", "--target", "labels", "--out", "out_lrp",
            cwd=synth)
    assert r.returncode == 0, r.stderr
    z = _load(synth / "out_lrp")
    assert z["maps"].shape == (6, len(CH), N_TIMES)
    assert z["target"].tolist() == [0, 1] * 3  # event codes 1/2 in code order
    assert (synth / "out_lrp" / "maps.png").exists()


def test_frequency_method_band_edges_and_topomap(synth):
    r = cli("explain", "--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "easypeasi",
            "--out", "out_freq", "--batch-size", "4", cwd=synth)
    assert r.returncode == 0, r.stderr
    z = _load(synth / "out_freq")
    n_bands = z["maps"].shape[-1]
    assert z["maps"].shape[:2] == (6, len(CH)) and "times" not in z
    assert z["band_edges"].shape == (n_bands, 2) and (np.diff(z["band_edges"], axis=1) > 0).all()
    assert (synth / "out_freq" / "maps.png").stat().st_size > 5000


def test_eegnb_builder_dft_lrp_n_bands(synth):
    from eegnb.models import build

    torch.save({"state_dict": build("eegnet", len(CH), N_TIMES, 2, SFREQ, seed=0).state_dict(), "ch_names": CH[::-1]},
               synth / "eegnet.pt")
    r = cli("explain", "--model", "eegnet.pt", "--builder", "eegnb:eegnet", "--epochs", "synth-epo.fif",
            "--method", "dft_lrp", "--method-kw", "n_bands=4", "--out", "out_dft", cwd=synth)
    assert r.returncode == 0, r.stderr
    z = _load(synth / "out_dft")
    assert z["maps"].shape == (6, len(CH), 4)
    assert z["ch_names"].tolist() == CH[::-1]  # reordered to the checkpoint's channel order
    np.testing.assert_allclose(z["band_edges"], [[0, 8], [8, 16], [16, 24], [24, 32]])


def in_process(*args, cwd: Path, capsys, monkeypatch) -> tuple[int, str]:
    """``eegnb.cli.main`` in this process (cheaper than a subprocess): ``(status, stderr)``."""
    from eegnb.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


def test_unknown_method_lists_known_ones(synth):
    r = cli("explain", "--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "lrp_bogus",
            "--out", "o", cwd=synth)
    assert r.returncode == 2 and "unknown method 'lrp_bogus'" in r.stderr
    from eegnb.explain import METHODS

    assert all(name in r.stderr for name in METHODS)  # every known method is listed
    assert "Traceback" not in r.stderr


def test_errors_are_clear(synth, capsys, monkeypatch):
    def run(*args):
        return in_process("explain", *args, cwd=synth, capsys=capsys, monkeypatch=monkeypatch)

    rc, err = run("--model", "missing.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o")
    assert rc == 2 and "model file not found" in err and "missing.pt" in err
    rc, err = run("--model", "foreign.pt", "--epochs", "nope-epo.fif", "--method", "gradient", "--out", "o")
    assert rc == 2 and "epochs file not found" in err
    save_script(foreign(5), synth / "five.pt")  # a model for 5 channels on 8-channel epochs
    rc, err = run("--model", "five.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o")
    assert rc == 2 and "rejected epochs of shape (n, 8, 128)" in err, err
    rc, err = run("--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o",
                  "--channels", "Fz,C3,Cz,C4,P3,Pz,P4,O1")
    assert rc == 2 and "lack: ['O1']" in err
    rc, err = run("--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "lrp_epsilon", "--out", "o")
    assert rc == 2 and "TorchScript" in err
    rc, err = run("--model", "foreign_state.pt", "--builder", "eegnb:eegnet", "--epochs", "synth-epo.fif",
                  "--method", "gradient", "--out", "o")
    assert rc == 2 and "does not fit eegnb:eegnet" in err
    rc, err = run("--model", "foreign_state.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o")
    assert rc == 2 and "not a TorchScript file" in err
    rc, err = run("--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o",
                  "--method-kw", "bogus=1")
    assert rc == 2 and "bogus" in err
    rc, err = run("--model", "foreign.pt", "--epochs", "synth-epo.fif", "--method", "gradient", "--out", "o",
                  "--target", "5")
    assert rc == 2 and "[0, 2)" in err
    assert not (synth / "o").exists()


def test_methods_listing(synth):
    r = cli("methods", cwd=synth)
    assert r.returncode == 0, r.stderr
    from eegnb.explain import METHODS

    for name in METHODS:
        assert name in r.stdout


def test_console_script_declared():
    """``pip install -e .`` makes ``eegnb`` call ``eegnb.cli:main`` (a callable returning an exit code)."""
    import importlib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    mod, fn = scripts["eegnb"].split(":")
    assert importlib.import_module(mod).__dict__[fn] is not None
    assert callable(importlib.import_module(mod).__dict__[fn])


@pytest.mark.realdata
def test_foreign_model_on_real_eegbci_epochs(tmp_path):
    folder = SHARED / "eegmmidb"
    if not (folder / "S001" / "S001R04.edf").exists():
        pytest.skip("../shared/data/eegmmidb not present")
    from eegnb.data import load

    real = load("eegbci", folder, subjects=[1])
    real.to_epochs().save(tmp_path / "s001-epo.fif", verbose="error")
    save_script(foreign(real.n_chans), tmp_path / "foreign.pt")
    r = cli("explain", "--model", "foreign.pt", "--epochs", "s001-epo.fif", "--method", "integrated_gradients",
            "--method-kw", "n_steps=8", "--out", "maps", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    z = _load(tmp_path / "maps")
    assert z["maps"].shape == real.X.shape
    assert z["ch_names"].tolist() == real.ch_names
    assert len(z["times"]) == real.n_times
    assert np.isfinite(z["maps"]).all() and np.abs(z["maps"]).max() > 0
    assert (tmp_path / "maps" / "maps.png").stat().st_size > 5000
    # and an eegnb model from its state_dict, LRP, frequency topomaps over the 64 electrodes
    from eegnb.models import build

    torch.save(build("eegnet", real.n_chans, real.n_times, 2, real.sfreq, seed=0).state_dict(), tmp_path / "e.pt")
    r = cli("explain", "--model", "e.pt", "--builder", "eegnb:eegnet", "--epochs", "s001-epo.fif",
            "--method", "dft_lrp", "--max-epochs", "6", "--out", "freq", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    z = _load(tmp_path / "freq")
    assert z["maps"].shape[:2] == (6, 64) and z["band_edges"].shape == (z["maps"].shape[2], 2)
    assert (tmp_path / "freq" / "maps.png").stat().st_size > 5000


def test_band_figure_without_channel_positions_is_a_labelled_image():
    """Bipolar sleep derivations have no scalp positions: a channel x band image instead of topomaps."""
    import matplotlib.pyplot as plt
    import mne

    from eegnb.cli import plot_band_maps

    info = mne.create_info(["EEG Fpz-Cz", "EOG horizontal", "EMG submental"], 100.0, ["eeg", "eog", "emg"])
    maps = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    edges = np.array([[0, 10], [10, 20], [20, 30], [30, 40], [40, 50]], float)
    fig = plot_band_maps(maps, np.array([0, 0, 1, 1]), info=info, edges=edges, method="dft_lrp", signed=True)
    img = [ax for ax in fig.axes if ax.images]
    assert len(img) == 2 and "no channel positions" in img[0].get_title()
    assert [t.get_text() for t in img[0].get_xticklabels()] == ["0-10 Hz", "10-20 Hz", "20-30 Hz", "30-40 Hz", "40-50 Hz"]
    cbars = [ax for ax in fig.axes if not ax.images and ax.get_ylabel()]
    assert any("relevance" in ax.get_ylabel() for ax in cbars)
    plt.close(fig)
