"""Simulated EEG shaped like DEAP, SEED, EEGBCI and Sleep-EDF, and paper 3's auditory and
internal/external attention tasks, with planted class evidence.

``simulate(layout, *, n_subjects, seed=0, difficulty=0.5, quick=False, **layout_kw)``
returns an :class:`~eegnb.data.EEGData` whose ``truth`` says, sample by sample, where the
class-dependent signal was added. Walked through in ``notebooks/02_data``.

Sources, not channels (the scalp layouts ``deap``, ``seed``, ``eegbci``, ``semi-eegbci``,
``auditory``, ``attention``)
    Everything is simulated as dipoles inside a head and projected to the electrodes through
    a lead field (:mod:`eegnb.data.leadfield`: MNE three-layer sphere fitted to the 10-05
    positions, volume source space on a 10 mm grid, ``mne.make_forward_solution`` with free
    orientation; cached in memory). So neighbouring channels share most of their signal, as
    in real EEG (volume conduction), and the planted evidence spreads over the scalp as a
    real generator's would.
Background (label independent)
    Per subject, ``N_SOURCES`` (300) dipoles at random grid points at least
    ``SOURCE_DEPTH`` (1.5 cm) below the inner skull, with random orientations, carry
    independent noise whose sensor projection is shaped to a 1/f^x spectrum (x = the
    layout's exponent +-0.15 per subject, high-passed at 1 Hz), plus ``N_ALPHA`` (2) radial
    occipito-parietal dipoles carrying neurodsp ``sim_bursty_oscillation`` alpha at the
    subject's peak (8.5-12 Hz). Then the reference (``BACKGROUND[layout]["reference"]``:
    the common average for DEAP, whose preprocessed release is average-referenced, and for
    SEED, an assumption; linked earlobes A1/A2 for EEGBCI, whose reference the release does
    not state), for EEGBCI a common reference term (one 1/f signal added to every channel:
    the reference electrode's own activity), channel gains (log-normal, sd 0.15), white
    sensor noise and the subject's amplitude (8-16 uV). Sources are simulated as one
    continuous recording per subject, cut into segments.
Calibration (``BACKGROUND``; measured with :func:`eegnb.data.realism.realism_table`)
    EEGBCI is calibrated to one real recording only, PhysioNet EEGBCI subject S001 (imagery
    runs 4/8/12, 0-4 s after each cue, all 64 channels): aperiodic slope (Welch, linear fit in
    log-log over 2-40 Hz without 7-14 Hz) -1.62, 8-12 Hz power over the aperiodic fit 1.27,
    mean |correlation| between channels 0.66 (0.92 for pairs < 4 cm apart, 0.58 for pairs
    > 10 cm); the source exponent, the alpha strength and the common reference term were set
    so that simulated EEGBCI at the default difficulty (3 subjects, seed 0) gives -1.60,
    1.49, 0.61 (0.93 / 0.51): within 0.03 / 0.22 / 0.06 (notebooks/02_data records both
    sides; tests/test_simulate.py checks slope +-0.2, correlation +-0.15 and alpha ratio
    +-0.3 on S001). The alpha excess comes mostly from the planted sensorimotor mu (S001's
    own mu is weak: 1.1-1.2 over 1/f at C3/C4); the posterior alpha generators are weak. DEAP and SEED are *not* calibrated to
    their own recordings (not available here): they use the same source exponent and alpha
    strength with their own reference; their slopes lie within the -1 to -2 range of adult
    EEG aperiodic exponents reported with FOOOF/specparam (Donoghue et al. 2020, Nat
    Neurosci 23:1655), which is a plausibility bound, not a fit.
Subjects (fixed per subject, the same whatever ``n_subjects``)
    Source positions and orientations, channel gains, 1/f exponent, alpha peak frequency and
    strength, sensor noise and overall amplitude. Segments of one subject share these, so
    subjects form clusters; none of them depends on the label.
Planted class evidence (the only label-dependent signal; ``truth`` marks it)
    A band-limited signal (white noise filtered to a band) carried by extended generators:
    per named electrode, a patch of radial dipoles (all grid points within ``PATCH_RADIUS``,
    2 cm, of the point 1.5 cm below the inner skull under the electrode's standard 10-05
    position, +-0.5 cm in depth; centres in ``info["planted"]["sources"]``) driven by one
    signal, projected through the same lead field and reference, and multiplied by a time
    envelope ``e(t)``; its amplitude depends on the class. Its size is an in-band amplitude
    SNR: at the peak channel, the planted signal's standard deviation is SNR x the
    background's in the same band (before the class modulation; ``info["planted"]["snr"]``).
    **Truth follows the projection**: the graded channel weight ``w[ch]`` is the generators'
    summed lead-field power (independent generators add in power), normalised to max 1 and
    set to 0 below 0.01 (there the planted amplitude is under 10 % of its peak;
    :func:`eegnb.data.leadfield.truth_weights`); ``truth[i, ch, t] = w[ch] * e_i(t)`` and
    ``truth_freq[ch, f]`` is ``w[ch]`` on the planted frequency bins. The metrics count
    ``truth >= 0.5`` (``TRUTH_THRESHOLD``) as positive: ``info["planted"]["channels"]`` lists
    the channels that pass, ``info["planted"]["weights"]`` every weight > 0. With a lead
    field, strong evidence is visible (weakly) far from the generator too, as the small
    weights say; the class contrast follows the truth weight, it does not stop at a border.
Difficulty
    Both the modulation depth ``m`` (``EFFECT_RANGE``, ``info["effect"]``) and the in-band SNR
    (``SNR_RANGE``, :func:`planted_snr`) fall log-linearly from the layout's easiest to its
    hardest value as ``difficulty`` goes from 0 to 1. The SNR is 2.5 at the default 0.5 (the
    realism calibration above is at that setting) and 6-10 at 0 (an idealised strong
    generator, so that models learn from the ~150 training segments of the quick notebook
    runs); notebooks/02_data records EEGNet's accuracy at several difficulties.

Layouts (``info["planted"]`` lists the channels, bands and windows):

``"deap"``
    32 channels, 128 Hz, 4 s (512 samples); trials of ``n_segments`` segments with binary
    ``valence`` and ``arousal`` labels drawn independently per trial (both in ``meta``);
    ``label="arousal"`` (default) or ``"valence"`` picks ``y`` and ``truth``. Both effects are
    always planted: arousal as a 0.75 s theta (5-7 Hz) + beta (18-25 Hz) burst from two
    generators under FT7 and FT8 (independent signals, the same class rule) whose beta/theta
    balance depends on arousal (high: more beta; truth >= 0.5 at T7, T8, FC6, F8, F7, FC5
    0.49); valence as a 1 s frontal alpha (8-12 Hz) burst from generators under AF3 and AF4
    whose left/right balance depends on valence (high valence: less left alpha; truth >= 0.5
    at AF3, AF4, F3, F4, Fp2). With the average reference every DEAP channel gets a weight
    of at least about 0.03. Each burst starts at a random
    time per segment (0.25 s to 3 s), so time-step removal experiments make sense.
``"seed"``
    62 channels, 200 Hz, 2 s (400 samples); 15 trials per session in SEED's order
    (5 positive, 5 neutral, 5 negative), ``n_segments`` segments per trial; binary
    (negative=0, positive=1) drops neutral, ``n_classes=3`` keeps it
    (negative/neutral/positive). Evidence is spectral and spans the whole segment:
    beta/gamma (16-45 Hz) band power from generators under T7 and T8 (lateral temporal
    cortex), higher for positive; truth >= 0.5 at T7 and T8, graded (0.2-0.36) at FT7, TP8,
    FT8, TP7, C5, C6.
    Subjects also differ in that band's baseline power (label independent).
``"eegbci"``
    64 channels, 160 Hz, 4 s after the cue (640 samples); left vs right hand imagery.
    A sensorimotor mu (subject peak +-1.5 Hz) + beta (18-26 Hz) rhythm from generators
    under C3 and C4 runs all the time; between about 0.5 s and 3.5 s after the cue its amplitude
    drops (event-related desynchronisation) at the source contralateral to the imagined
    hand (C3 for the right hand, C4 for the left). ``truth`` marks both sources' projection
    in that window (>= 0.5 at C3 and C4; C5/FC3/CP3/C1 and their right twins 0.2-0.34).
``"semi-eegbci"`` (semi-synthetic; needs ``data_dir``)
    Background = real EEGBCI recordings (:func:`eegnb.data.loaders.load_eegbci`, ``runs``
    4/8/12 by default, 0-4 s after every cue, each epoch demeaned), subjects 1..n_subjects
    of ``data_dir``. New labels are drawn (balanced, independent of the real cues, which stay
    in ``meta["real_label"]``); class evidence is a 2 s mu burst (9-13 Hz, Tukey window at a
    random onset) from the generator under C4 (left hand) or C3 (right hand), projected through
    the lead field (linked-ears reference), with in-band amplitude SNR = ``effect_size(
    "semi-eegbci", difficulty)`` relative to the recording's own 9-13 Hz std at the peak
    channel. Outside the burst the data equal the real recording exactly (not demeaned
    again), so the truth is exact and the noise is real.
``"auditory"`` (paper 3's auditory attention task; ``eegnb.data.layouts.TASK_LAYOUTS``)
    Shaped like the KU Leuven AAD dataset (:func:`eegnb.data.loaders.load_kul`): 64 BioSemi
    channels (10-20 names, BioSemi order), 128 Hz, 4 s windows (512 samples), ``n_trials``
    trials per subject (20, as in KUL; quick 8) of ``n_segments`` consecutive windows (6;
    quick 3) that share the trial's attended side; classes ``["left", "right"]`` (0/1,
    KUL's ``attended_ear`` ``'L'``/``'R'``, also in ``meta["attended_ear"]``), balanced over
    trials. Planted correlate: **alpha-power lateralisation** over parieto-occipital cortex.
    Attending to one side raises alpha over the hemisphere ipsilateral to the attended side and
    lowers it over the contralateral one (Kerlin, Shahin & Miller 2010, J Neurosci 30:620;
    Wöstmann, Herrmann, Maess & Obleser 2016, PNAS 113:3873, who localised the lateralised
    alpha to parietal cortex; the alpha inhibition account of Jensen & Mazaheri 2010). Two
    generators under PO7 (left) and PO8 (right) carry alpha (the subject's peak +-1.5 Hz)
    during the whole window; with depth ``m`` (difficulty): attended left (class 0) -> left
    generator amplitude (1 + m), right (1 - m); attended right (class 1) -> the reverse. So for
    class ``"right"`` the alpha at PO8/P8/P6 rises and at PO7/P7/P5 falls (truth >= 0.5 at
    PO8, PO7, P7, P8, P6, P5: ``info["planted"]["channels_by_hemisphere"]``). The real effect
    is a few per cent of alpha power; the easy end of the difficulty range is idealised.
``"attention"`` (paper 3's internal vs external attention task)
    The same cap, rate, window and trial structure; classes ``["external", "internal"]``
    (0/1; ``meta["task"]``): external = a visual task, internal = mental arithmetic or imagery
    with the same display. Planted correlate: **parieto-occipital alpha increase for internal
    attention** (alpha rises when attention turns away from sensory input: Ray & Cole 1985,
    Science 228:750; Benedek, Schickel, Jauk, Fink & Neubauer 2014, Neuropsychologia 56:393,
    alpha increase over (right) parietal cortex during internally directed attention; Cona et
    al. 2020, NeuroImage 205:116295, alpha as a signature of internal attention in MEG). Two
    generators under PO3 and PO4 carry alpha (subject peak +-1.5 Hz) during the whole window
    with amplitude (1 + m) for internal and (1 - m) for external attention in both hemispheres
    (truth >= 0.5 at PO4, PO3, POz, P3); Benedek's right-hemisphere emphasis is not modelled.
    No loader: the paper's abstract names no dataset and we found no public
    internal/external attention EEG dataset with a documented file layout.
    Both tasks: average reference (assumed); per subject (label independent) the alpha peak
    (``meta["alpha_freq"]``), the planted rhythm's overall level (x exp(N(0, 0.25))) and a
    hemispheric asymmetry (x exp(+-N(0, 0.1))), per trial and per window strength jitter; the
    background is the EEGBCI-calibrated one. ``truth`` marks both generators' projection over
    the whole window, ``truth_freq`` 7-13.5 Hz (every subject's alpha).
``"sleep-edf"``
    Fpz-Cz (eeg), horizontal EOG (eog), submental EMG (emg); 100 Hz; 30 s epochs; classes
    W, N1, N2, N3, REM. No lead field: a single bipolar EEG derivation plus two non-EEG
    channels give no spatial pattern to project (one EEG row), so the modality evidence is
    kept as before, per channel. Every subject has two nights (placebo and temazepam, order
    drawn per subject) following a Markov hypnogram whose transition probabilities (one
    table per third of the night) were calibrated on the 20 Sleep-EDF-20 hypnograms
    (``sleep_transitions.csv``, made by :func:`calibrate_hypnogram`); ``epochs_per_night``
    epochs are drawn at random from each night (sorted by time). Stage signatures: W alpha +
    high EMG tone; N1 theta + slow eye movements; N2 spindles (11-15 Hz) + K-complexes;
    N3 high-amplitude delta; REM rapid eye movements + EMG atonia (EMG tone on a log scale:
    W > N1 > N2 > N3 > REM). All stage signatures scale with the effect size. Each stage's evidence
    has a dominant modality (``info["modality_evidence"]``) and ``truth`` marks the
    evidence samples of that modality's channel; the weaker secondary signatures (listed in
    ``info["secondary_evidence"]``) are left unmarked, so for sleep the truth is the
    dominant-modality truth. Age (25-100), sex and medication change specific stage x
    modality features with known signs (``info["planted_effects"]``). The whole simulated
    night of every recording (stage index per 30 s epoch) is in ``info["hypnograms"]``.

Units: microvolts (``info["unit"] == "uV"``). Deterministic for a given ``seed``.
Hand-written here (no library simulates multichannel EEG with planted labels): the choice
of dipoles and orientations, the 1/f shaping after projection (the same spectral shaping
as neurodsp's ``sim_powerlaw``), the envelopes, the sleep transients (spindles,
K-complexes, eye movements) and the Markov hypnogram; the lead fields come from MNE, the
alpha bursts from neurodsp.
"""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from eegnb.data.container import EEGData
from eegnb.data.layouts import (
    LAYOUTS,
    SLEEP_STAGES,
    get_layout,
)
from eegnb.data.leadfield import truth_weights

TRANSITIONS_CSV = Path(__file__).with_name("sleep_transitions.csv")

# Effect size (modulation depth) at difficulty 0 (easiest) and 1 (hardest), per layout;
# set with EEGNet on the earlier sensor-level simulation and kept (the scalp layouts'
# difficulty now also sets the in-band SNR, SNR_RANGE); notebooks/02_data records accuracies.
EFFECT_RANGE: dict[str, tuple[float, float]] = {
    "deap": (0.9, 0.15),
    "seed": (0.8, 0.07),
    "eegbci": (0.8, 0.1),
    "sleep-edf": (0.8, 0.04),
    "semi-eegbci": (2.0, 0.25),  # in-band amplitude SNR of the planted burst
    "auditory": (0.8, 0.1),  # alpha lateralisation depth
    "attention": (0.8, 0.1),  # alpha increase for internal attention
}

# In-band amplitude SNR of the planted rhythms at their peak channel (the planted signal's
# standard deviation over the background's in the same band, before the class modulation),
# at difficulty 0 and 1 (log-linear in between, like the modulation depth). The easy end is
# an idealised strong generator (the quick notebook tests train on ~150 segments); the
# default (0.5) is what the realism table compares with EEGBCI S001.
SNR_RANGE: dict[str, tuple[float, float]] = {
    "deap": (10.0, 0.625),
    "seed": (6.0, 1.04),
    "eegbci": (8.0, 0.78),
    "auditory": (8.0, 0.78),
    "attention": (8.0, 0.78),
}  # all 2.5 at the default difficulty 0.5


def planted_snr(layout: str, difficulty: float) -> float:
    """In-band amplitude SNR of the planted evidence for ``difficulty`` in [0, 1]."""
    if not 0.0 <= float(difficulty) <= 1.0:
        raise ValueError(f"difficulty must lie in [0, 1]; got {difficulty}")
    easy, hard = SNR_RANGE[layout]
    return float(easy ** (1.0 - difficulty) * hard**difficulty)


def effect_size(layout: str, difficulty: float) -> float:
    """Modulation depth of the planted evidence for ``difficulty`` in [0, 1] (log-linear)."""
    if not 0.0 <= float(difficulty) <= 1.0:
        raise ValueError(f"difficulty must lie in [0, 1]; got {difficulty}")
    easy, hard = EFFECT_RANGE[layout]
    return float(easy ** (1.0 - difficulty) * hard**difficulty)


# ---------------------------------------------------------------------------------------
# random streams
# ---------------------------------------------------------------------------------------
def _rng(*keys) -> np.random.Generator:
    """A generator keyed by ints/strings, so one subject's draws do not depend on others."""
    ints = [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng([int(i) % (2**32) for i in ints])


@contextlib.contextmanager
def _np_seed(seed: int):
    """Seed numpy's global state for neurodsp (which draws from it) and restore it after."""
    state = np.random.get_state()
    np.random.seed(int(seed) % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)


def _bank(rng, k: int, n_samples: int, sfreq: float, exponent: float = 0.0,
          band=None) -> np.ndarray:
    """``k`` independent unit-variance signals ``(k, n_samples)`` with a 1/f^-exponent spectrum.

    One neurodsp ``sim_powerlaw`` call makes all ``k`` signals (cut from one long
    series, at an FFT-friendly length; for ``exponent=0``, white noise, drawn directly
    from ``rng``); ``band`` (Hz, ``(lo, hi)``, either may be None)
    then filters them with MNE's zero-phase IIR (Butterworth) filter (``exponent=0`` + ``band`` gives
    band-limited noise).
    """
    from neurodsp.sim import sim_powerlaw
    from scipy.fft import next_fast_len

    total = k * n_samples
    if exponent == 0.0:
        # sim_powerlaw with exponent 0 is z-scored white noise; draw it directly (saves
        # two FFTs of the whole series)
        sig = rng.standard_normal((k, n_samples))
    else:
        n_fast = next_fast_len(total)
        with _np_seed(rng.integers(2**31)):
            # (n - 0.5) / fs so that neurodsp's ceil(n_seconds * fs) gives exactly n samples
            sig = sim_powerlaw((n_fast - 0.5) / sfreq, sfreq, exponent=exponent)
        sig = _fit_len(sig, total).reshape(k, n_samples)
    if band is not None:
        import mne

        # zero-phase Butterworth (second-order sections): linear in length, unlike a long FIR
        sig = mne.filter.filter_data(
            sig, sfreq, band[0], band[1], method="iir",
            iir_params=dict(order=4, ftype="butter", output="sos"), verbose="error",
        )
    sig = sig - sig.mean(axis=1, keepdims=True)
    return sig / (sig.std(axis=1, keepdims=True) + 1e-12)


def _powerlaw(rng, n_samples: int, sfreq: float, exponent: float, f_range=None) -> np.ndarray:
    """One neurodsp 1/f signal of ``n_samples`` (unit variance), optionally filtered."""
    return _bank(rng, 1, n_samples, sfreq, exponent, f_range)[0]


def _narrowband(rng, n_samples: int, sfreq: float, band) -> np.ndarray:
    """Band-limited noise (unit variance): white ``sim_powerlaw`` filtered to ``band`` (Hz)."""
    return _bank(rng, 1, n_samples, sfreq, 0.0, band)[0]


def _fit_len(sig: np.ndarray, n: int) -> np.ndarray:
    sig = np.asarray(sig, dtype=np.float64)
    if len(sig) >= n:
        return sig[:n]
    return np.pad(sig, (0, n - len(sig)), mode="wrap")


# ---------------------------------------------------------------------------------------
# shared background
# ---------------------------------------------------------------------------------------
# Background calibration (see the module docstring and notebooks/02_data): the source
# spectrum exponent (mean over subjects; each subject +-0.15), the strength of the
# posterior alpha generators (sensor variance relative to the 1/f part), the common
# reference term (variance relative to the 1/f part) and the reference, per layout.
# eegbci: fitted to EEGBCI S001 (runs 4/8/12) with eegnb.data.realism.realism_table.
BACKGROUND: dict[str, dict] = {
    "deap": dict(reference="average", exponent=-1.62, alpha=0.06, common=0.0, noise=0.03),
    "seed": dict(reference="average", exponent=-1.62, alpha=0.06, common=0.0, noise=0.03),
    "eegbci": dict(reference="ears", exponent=-1.62, alpha=0.06, common=0.8, noise=0.03),
    # paper 3's other tasks: the EEGBCI source calibration, average reference (assumed; the
    # KU Leuven release does not state one, BioSemi records against CMS/DRL)
    "auditory": dict(reference="average", exponent=-1.62, alpha=0.06, common=0.0, noise=0.03),
    "attention": dict(reference="average", exponent=-1.62, alpha=0.06, common=0.0, noise=0.03),
}
N_SOURCES = 300  # background dipoles per subject (random grid points, random orientations)
SOURCE_DEPTH = 0.015  # m below the inner skull: the shallowest background dipole
N_ALPHA = 2  # posterior alpha generators per subject


@dataclass
class _Subject:
    gain: np.ndarray  # (ch,)
    exponent: float
    alpha_freq: float
    alpha_amp: float
    noise: float
    scale: float  # uV


def _subject_params(layout: str, seed: int, s: int, n_ch: int) -> _Subject:
    rng = _rng(seed, layout, "subject", s)
    cfg = BACKGROUND.get(layout, BACKGROUND["eegbci"])
    return _Subject(
        gain=np.exp(rng.normal(0.0, 0.15, n_ch)),
        exponent=float(cfg["exponent"] + rng.uniform(-0.15, 0.15)),
        alpha_freq=float(np.clip(rng.normal(10.0, 0.9), 8.5, 12.0)),
        alpha_amp=float(cfg["alpha"] * rng.uniform(0.6, 1.4)),
        noise=float(cfg["noise"] * rng.uniform(0.7, 1.3)),
        scale=float(rng.uniform(8.0, 16.0)),
    )


def _shape_powerlaw(x: np.ndarray, sfreq: float, exponent: float, hp: float = 1.0) -> np.ndarray:
    """Give white signals ``x (k, L)`` a 1/f^-exponent power spectrum above ``hp`` Hz.

    The same spectral shaping as neurodsp's ``sim_powerlaw`` (amplitude x f^(exponent/2) in
    the Fourier domain), with a smooth 4th-order high-pass at ``hp``; applied after the
    linear mixing (it commutes with it), so only ``ch`` series are filtered, not every source.
    """
    from scipy.fft import irfft, next_fast_len, rfft, rfftfreq

    L = x.shape[-1]
    n = next_fast_len(L)
    f = rfftfreq(n, 1.0 / sfreq)
    f[0] = f[1]
    h = f ** (exponent / 2.0) / np.sqrt(1.0 + (hp / f) ** 8)
    h[0] = 0.0
    return irfft(rfft(x, n, axis=-1) * h, n, axis=-1)[..., :L]


def _background(rng, n: int, n_times: int, sfreq: float, head, sub: _Subject,
                cfg: dict) -> np.ndarray:
    """Volume-conducted 1/f + alpha background ``(n, ch, t)`` in uV.

    ``N_SOURCES`` dipoles at random grid points of ``head`` (random orientations) carry
    white noise that, once projected through the lead field, is shaped to the subject's
    1/f spectrum; ``N_ALPHA`` radial dipoles in the posterior cortex carry neurodsp bursty
    alpha; then the common reference term, per-channel gains and sensor noise.
    """
    from neurodsp.sim import sim_bursty_oscillation

    from eegnb.data.leadfield import project

    L = n * n_times
    rel = head.rr - head.r0
    rad = np.linalg.norm(rel, axis=1)
    # no dipole closer than SOURCE_DEPTH to the inner skull (cortex lies about 1-2 cm below it)
    idx = rng.choice(np.flatnonzero(rad < head.inner - SOURCE_DEPTH), N_SOURCES, replace=False)
    ori = rng.standard_normal((N_SOURCES, 3))
    ori /= np.linalg.norm(ori, axis=1, keepdims=True)
    A = project(head, idx, ori, cfg["reference"])  # (ch, S)
    X = _shape_powerlaw(A @ rng.standard_normal((N_SOURCES, L)), sfreq, sub.exponent)
    X /= np.sqrt(np.mean(X**2))
    # alpha: radial dipoles of the occipito-parietal cortex (1-3 cm below the inner skull)
    post = np.flatnonzero((rel[:, 1] < -0.04) & (rel[:, 2] > 0.0)
                          & (rad > head.inner - 0.03) & (rad < head.inner - 0.01))
    ia = rng.choice(post, N_ALPHA, replace=False)
    with _np_seed(rng.integers(2**31)):
        alpha = sim_bursty_oscillation(
            (N_ALPHA * L - 0.5) / sfreq, sfreq, sub.alpha_freq,
            burst_params={"enter_burst": 0.25, "leave_burst": 0.15})
    Xa = project(head, ia, rel[ia] / rad[ia, None], cfg["reference"]) @ \
        _fit_len(alpha, N_ALPHA * L).reshape(N_ALPHA, L)
    X += sub.alpha_amp * Xa / np.sqrt(np.mean(Xa**2))
    if cfg["common"] > 0:
        # the reference electrode's own activity, shared by every channel
        r = _shape_powerlaw(rng.standard_normal((1, L)), sfreq, sub.exponent)
        X += np.sqrt(cfg["common"]) * r / r.std()
    X = sub.gain[:, None] * X + sub.noise * rng.standard_normal(X.shape)
    X *= sub.scale
    return X.reshape(len(X), n, n_times).transpose(1, 0, 2)


def _evidence_sources(head, electrodes: list[str], reference: str):
    """One extended generator per electrode: a patch of radial dipoles (radius
    ``PATCH_RADIUS``) 1.5 cm below the inner skull under its standard position, all driven by
    the same signal. Returns ``(patterns (ch, k) with peak |value| 1, centre grid indices (k,))``."""
    from eegnb.data.leadfield import patch_under, project, source_under

    cols, centre = [], []
    for e in electrodes:
        idx, ori = patch_under(head, e, radius=PATCH_RADIUS)
        cols.append(project(head, idx, ori, reference).sum(axis=1))
        centre.append(source_under(head, e)[0])
    P = np.stack(cols, axis=1)
    return P / np.abs(P).max(axis=0, keepdims=True), np.array(centre)


PATCH_RADIUS = 0.02  # m: an evidence generator is a cortical patch of about 10 cm^2


TRUTH_THRESHOLD = 0.5  # eegnb.metrics counts truth >= 0.5 as positive


def _planted_info(ch: list[str], w: np.ndarray, electrodes, idx, head) -> dict:
    """Who carries the evidence: channels with weight >= TRUTH_THRESHOLD, all weights > 0."""
    order = np.argsort(-w, kind="stable")
    return {"channels": [ch[i] for i in order if w[i] >= TRUTH_THRESHOLD],
            "weights": {ch[i]: round(float(w[i]), 3) for i in order if w[i] > 0},
            "truth_threshold": TRUTH_THRESHOLD,
            "sources": {e: [round(float(v), 4) for v in head.rr[i]]
                        for e, i in zip(electrodes, idx)}}


def _tukey_env(n: int, n_times: int, start: np.ndarray, length: int, alpha=0.5) -> np.ndarray:
    """Envelopes ``(n, t)``: a Tukey window of ``length`` samples starting at ``start[i]``."""
    from scipy.signal.windows import tukey

    win = tukey(length, alpha)
    pos = np.arange(n_times)[None, :] - np.asarray(start)[:, None]
    inside = (pos >= 0) & (pos < length)
    return np.where(inside, win[np.clip(pos, 0, length - 1)], 0.0)


def _ramp_env(n_times: int, sfreq: float, on: np.ndarray, off: np.ndarray, ramp=0.3):
    """Envelopes ``(n, t)``: 0 before ``on - ramp/2`` (s), 1 between the raised-cosine ramps,
    back to exactly 0 after ``off + ramp/2`` (compact support, so ``truth`` is 0 outside)."""
    t = np.arange(n_times) / sfreq

    def rise(x):
        return 0.5 - 0.5 * np.cos(np.pi * np.clip(x / ramp + 0.5, 0.0, 1.0))

    return rise(t[None] - on[:, None]) * rise(off[:, None] - t[None])


def _band_std(X: np.ndarray, ch: int, band, sfreq: float) -> float:
    """Standard deviation of channel ``ch`` of ``X (n, ch, t)`` in ``band`` (Hz): the yardstick of
    the planted signals' in-band SNR."""
    import mne

    x = mne.filter.filter_data(X[:, ch].astype(np.float64), sfreq, band[0], band[1],
                               method="iir", verbose="error",
                               iir_params=dict(order=4, ftype="butter", output="sos"))
    return float(x.std())


def _head(layout: str, ch: list[str], positions):
    from eegnb.data.leadfield import head_model

    return head_model(ch, positions=positions)


def _band_mask(freqs: np.ndarray, bands) -> np.ndarray:
    m = np.zeros(len(freqs))
    for lo, hi in bands:
        m[(freqs >= lo) & (freqs <= hi)] = 1.0
    return m


def _balanced(rng, n: int, k: int = 2) -> np.ndarray:
    return rng.permutation(np.arange(n) % k)


# ---------------------------------------------------------------------------------------
# layouts
# ---------------------------------------------------------------------------------------
def _sim_deap(seed, n_subjects, difficulty, quick, label="arousal", n_trials=None,
              n_segments=None, positions=None):
    if label not in ("arousal", "valence"):
        raise ValueError(f"label must be 'arousal' or 'valence'; got {label!r}")
    lay = LAYOUTS["deap"]
    n_trials = n_trials or (12 if quick else 40)
    n_segments = n_segments or (2 if quick else 3)
    sf, T, ch = lay.sfreq, lay.n_times, lay.ch_names
    cfg = BACKGROUND["deap"]
    head = _head("deap", ch, positions)
    m = effect_size("deap", difficulty)
    aro_e, val_e = ["FT7", "FT8"], ["AF3", "AF4"]
    Pa, ia = _evidence_sources(head, aro_e, cfg["reference"])
    Pv, iv = _evidence_sources(head, val_e, cfg["reference"])
    theta, beta, alpha = (5.0, 7.0), (18.0, 25.0), (8.0, 12.0)
    aro_len, val_len = int(0.75 * sf), int(1.0 * sf)
    snr = planted_snr("deap", difficulty)

    Xs, truths, metas = [], [], []
    for s in range(1, n_subjects + 1):
        sub = _subject_params("deap", seed, s, len(ch))
        rng = _rng(seed, "deap", "data", s)
        n = n_trials * n_segments
        X = _background(rng, n, T, sf, head, sub, cfg)
        pk_a, pk_v = int(np.argmax(np.abs(Pa[:, 0]))), int(np.argmax(np.abs(Pv[:, 0])))
        ref = {k: snr * _band_std(X, pk, b, sf) for k, pk, b in
               (("theta", pk_a, theta), ("beta", pk_a, beta), ("alpha", pk_v, alpha))}
        aro = np.repeat(_balanced(rng, n_trials), n_segments)
        val = np.repeat(_balanced(rng, n_trials), n_segments)
        sa, sv = 2.0 * aro - 1.0, 2.0 * val - 1.0
        L = n * T
        th = _bank(rng, 2, L, sf, 0.0, theta).reshape(2, n, T) * ref["theta"]
        be = _bank(rng, 2, L, sf, 0.0, beta).reshape(2, n, T) * ref["beta"]
        al = _bank(rng, 2, L, sf, 0.0, alpha).reshape(2, n, T) * ref["alpha"]
        jit = np.exp(rng.normal(0, 0.2, (2, n)))
        start_a = rng.integers(int(0.25 * sf), T - aro_len - int(0.25 * sf), n)
        start_v = rng.integers(int(0.25 * sf), T - val_len - int(0.25 * sf), n)
        env_a = _tukey_env(n, T, start_a, aro_len)
        env_v = _tukey_env(n, T, start_v, val_len)
        # high arousal: more beta, less theta at both temporal sources
        sig_a = jit[0][None, :, None] * env_a[None] * (
            (1 + m * sa)[None, :, None] * be + (1 - m * sa)[None, :, None] * th) / np.sqrt(2)
        # high valence -> less left-frontal alpha (frontal alpha asymmetry)
        gain_v = np.stack([1 - m * sv, 1 + m * sv])  # (left, right)
        sig_v = (jit[1] * gain_v)[:, :, None] * env_v[None] * al
        X += np.einsum("ck,knt->nct", Pa, sig_a) + np.einsum("ck,knt->nct", Pv, sig_v)
        w = truth_weights(Pa if label == "arousal" else Pv)
        env = env_a if label == "arousal" else env_v
        Xs.append(X.astype(np.float32))
        truths.append((w[None, :, None] * env[:, None, :]).astype(np.float32))
        trial = np.repeat(np.arange(n_trials), n_segments)
        segment = np.tile(np.arange(n_segments), n_trials)
        metas.append(pd.DataFrame({
            "subject": s, "trial": trial, "segment": segment, "onset": segment * lay.seconds,
            "valence": val, "arousal": aro,
            "burst_onset": (start_a if label == "arousal" else start_v) / sf,
        }))
    meta = pd.concat(metas, ignore_index=True)
    freqs = np.fft.rfftfreq(T, 1 / sf)
    if label == "arousal":
        w = truth_weights(Pa)
        tf = w[:, None] * _band_mask(freqs, [theta, beta])[None]
        planted = {**_planted_info(ch, w, aro_e, ia, head),
                   "bands_hz": {"theta": theta, "beta": beta}, "window_s": aro_len / sf,
                   "rule": "high arousal: beta amplitude (1+m), theta (1-m); low: reversed"}
    else:
        w = truth_weights(Pv)
        tf = w[:, None] * _band_mask(freqs, [alpha])[None]
        planted = {**_planted_info(ch, w, val_e, iv, head), "bands_hz": {"alpha": alpha},
                   "window_s": val_len / sf,
                   "rule": "high valence: left alpha (1-m), right alpha (1+m); low: reversed"}
    planted["snr"] = snr
    y = meta[label].to_numpy()
    info = {"planted": planted, "label": label, "reference": cfg["reference"],
            "other_planted": "valence" if label == "arousal" else "arousal",
            "n_trials": n_trials, "n_segments": n_segments}
    return Xs, y, meta, truths, tf, ["low", "high"], info


SEED_TRIAL_LABELS = [1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]  # SEED label.mat


def _sim_seed(seed, n_subjects, difficulty, quick, n_classes=2, n_segments=None,
              n_sessions=1, positions=None):
    if n_classes not in (2, 3):
        raise ValueError(f"n_classes must be 2 or 3; got {n_classes}")
    lay = LAYOUTS["seed"]
    n_segments = n_segments or (3 if quick else 8)
    sf, T, ch = lay.sfreq, lay.n_times, lay.ch_names
    cfg = BACKGROUND["seed"]
    head = _head("seed", ch, positions)
    m = effect_size("seed", difficulty)
    elec = ["T7", "T8"]
    P, idx = _evidence_sources(head, elec, cfg["reference"])
    w = truth_weights(P)
    band = (16.0, 45.0)
    snr = planted_snr("seed", difficulty)
    labels = np.array(SEED_TRIAL_LABELS)
    keep = labels != 0 if n_classes == 2 else np.ones(15, bool)
    trial_ids = np.flatnonzero(keep)

    Xs, truths, metas = [], [], []
    for s in range(1, n_subjects + 1):
        sub = _subject_params("seed", seed, s, len(ch))
        rng = _rng(seed, "seed", "data", s)
        base = np.exp(rng.normal(0, 0.2))  # subject's own beta/gamma level
        for sess in range(1, n_sessions + 1):
            n = len(trial_ids) * n_segments
            X = _background(rng, n, T, sf, head, sub, cfg)
            ref = snr * _band_std(X, int(np.argmax(np.abs(P[:, 0]))), band, sf)
            emo = np.repeat(labels[trial_ids], n_segments)
            trial_jit = np.repeat(np.exp(rng.normal(0, 0.1, len(trial_ids))), n_segments)
            a = ref * base * trial_jit * (1 + m * emo)
            nb = _bank(rng, 2, n * T, sf, 0.0, band).reshape(2, n, T)
            X += np.einsum("ck,knt->nct", P, a[None, :, None] * nb)
            Xs.append(X.astype(np.float32))
            truths.append(np.broadcast_to(w[None, :, None], X.shape).astype(np.float32))
            seg = np.tile(np.arange(n_segments), len(trial_ids))
            metas.append(pd.DataFrame({
                "subject": s, "session": sess,
                "trial": np.repeat(trial_ids + 1, n_segments), "segment": seg,
                "onset": seg * lay.seconds, "emotion": emo,
            }))
    meta = pd.concat(metas, ignore_index=True)
    emo = meta["emotion"].to_numpy()
    y = (emo > 0).astype(int) if n_classes == 2 else emo + 1
    names = ["negative", "positive"] if n_classes == 2 else ["negative", "neutral", "positive"]
    freqs = np.fft.rfftfreq(T, 1 / sf)
    tf = w[:, None] * _band_mask(freqs, [band])[None]
    info = {"planted": {**_planted_info(ch, w, elec, idx, head), "bands_hz":
                        {"beta_gamma": band}, "window_s": "whole segment", "snr": snr,
                        "rule": "band amplitude (1 + m * emotion), emotion in {-1, 0, +1}"},
            "reference": cfg["reference"], "n_segments": n_segments, "n_sessions": n_sessions}
    return Xs, y, meta, truths, tf, names, info


def _sim_eegbci(seed, n_subjects, difficulty, quick, n_trials=None, positions=None):
    lay = LAYOUTS["eegbci"]
    n_trials = n_trials or (20 if quick else 45)
    sf, T, ch = lay.sfreq, lay.n_times, lay.ch_names
    cfg = BACKGROUND["eegbci"]
    head = _head("eegbci", ch, positions)
    m = effect_size("eegbci", difficulty)
    elec = ["C3", "C4"]
    P, idx = _evidence_sources(head, elec, cfg["reference"])
    w = truth_weights(P)
    beta = (18.0, 26.0)
    snr = planted_snr("eegbci", difficulty)

    Xs, truths, metas = [], [], []
    for s in range(1, n_subjects + 1):
        sub = _subject_params("eegbci", seed, s, len(ch))
        rng = _rng(seed, "eegbci", "data", s)
        mu_f = float(np.clip(sub.alpha_freq + rng.normal(0.5, 0.5), 9.0, 13.0))
        mu = (mu_f - 1.5, mu_f + 1.5)
        n = n_trials
        X = _background(rng, n, T, sf, head, sub, cfg)
        pk = int(np.argmax(np.abs(P[:, 0])))
        r_mu, r_beta = snr * _band_std(X, pk, mu, sf), snr * _band_std(X, pk, beta, sf)
        y = _balanced(rng, n)  # 0 left hand, 1 right hand
        L = n * T
        rhythm = (r_mu * _bank(rng, 2, L, sf, 0.0, mu)
                  + 0.5 * r_beta * _bank(rng, 2, L, sf, 0.0, beta)).reshape(2, n, T)
        on = np.clip(0.5 + rng.normal(0, 0.1, n), 0.35, 0.75)
        off = np.clip(3.5 + rng.normal(0, 0.15, n), 3.1, 3.8)
        env = _ramp_env(T, sf, on, off)
        # trial-to-trial strength of the rhythm: mostly shared by both hemispheres
        jit = np.exp(rng.normal(0, 0.2, n)[None] + rng.normal(0, 0.07, (2, n)))
        # right hand (y=1) -> left hemisphere (C3) desynchronises, and vice versa
        g = np.stack([jit[0][:, None] * (1 - m * env * (y == 1)[:, None]),
                      jit[1][:, None] * (1 - m * env * (y == 0)[:, None])])
        X += np.einsum("ck,knt->nct", P, g * rhythm)
        Xs.append(X.astype(np.float32))
        truths.append((w[None, :, None] * env[:, None, :]).astype(np.float32))
        run = np.array([4, 8, 12])[np.arange(n) * 3 // n]
        metas.append(pd.DataFrame({"subject": s, "run": run, "trial": np.arange(n),
                                   "onset": np.arange(n) * 8.3 % 125.0, "mu_freq": mu_f,
                                   "erd_onset": on, "erd_offset": off, "label": y}))
    meta = pd.concat(metas, ignore_index=True)
    y = meta.pop("label").to_numpy()
    freqs = np.fft.rfftfreq(T, 1 / sf)
    # mu bands differ per subject; mark 8-14.5 Hz (every subject's mu) and beta
    tf = w[:, None] * _band_mask(freqs, [(8.0, 14.5), beta])[None]
    info = {"planted": {**_planted_info(ch, w, elec, idx, head), "bands_hz":
                        {"mu": "subject mu peak +-1.5 Hz (8-14.5 Hz)", "beta": beta},
                        "window_s": "about 0.5-3.5 s after the cue", "snr": snr,
                        "rule": "contralateral amplitude (1 - m) in the window"},
            "reference": cfg["reference"], "n_trials": n_trials}
    return Xs, y, meta, truths, tf, ["left_hand", "right_hand"], info


# ---------------------------------------------------------------------------------------
# paper 3's other two tasks: auditory attention, internal vs external attention
# ---------------------------------------------------------------------------------------
AUDITORY_SOURCES = ["PO7", "PO8"]  # left-, right-hemisphere parieto-occipital generator
ATTENTION_SOURCES = ["PO3", "PO4"]
ALPHA_HALF_WIDTH = 1.5  # Hz: the planted alpha is the subject's peak +-1.5 Hz
ALPHA_BAND_ALL = (7.0, 13.5)  # every subject's planted alpha (peaks 8.5-12 Hz)


def _alpha_task(layout: str, seed, n_subjects, difficulty, quick, n_trials, n_segments,
                positions, gains, labels_per_trial: int):
    """Shared body of the ``auditory`` and ``attention`` layouts.

    ``gains(m, y (n,)) -> (2, n)`` is the class rule: amplitude factors of the left and
    right generator per segment. Trials of ``n_segments`` consecutive windows share a label
    (as in the recordings: a trial is one attended side or one task).
    """
    lay = get_layout(layout)
    n_trials = int(n_trials or (8 if quick else 20))
    n_segments = int(n_segments or (3 if quick else 6))
    if n_trials < labels_per_trial or n_segments < 1:
        raise ValueError(f"{layout}: need n_trials >= {labels_per_trial} and n_segments >= 1; got "
                         f"{n_trials}, {n_segments}")
    sf, T, ch = lay.sfreq, lay.n_times, lay.ch_names
    cfg = BACKGROUND[layout]
    head = _head(layout, ch, positions)
    m = effect_size(layout, difficulty)
    elec = AUDITORY_SOURCES if layout == "auditory" else ATTENTION_SOURCES
    P, idx = _evidence_sources(head, elec, cfg["reference"])
    w = truth_weights(P)
    snr = planted_snr(layout, difficulty)

    Xs, truths, metas = [], [], []
    for s in range(1, n_subjects + 1):
        sub = _subject_params(layout, seed, s, len(ch))
        rng = _rng(seed, layout, "data", s)
        rs = _rng(seed, layout, "subject-task", s)
        band = (sub.alpha_freq - ALPHA_HALF_WIDTH, sub.alpha_freq + ALPHA_HALF_WIDTH)
        # label-independent per-subject traits: overall alpha level, hemispheric asymmetry
        level = float(np.exp(rs.normal(0.0, 0.25)))
        asym = np.exp(np.array([-1.0, 1.0]) * rs.normal(0.0, 0.1))
        n = n_trials * n_segments
        X = _background(rng, n, T, sf, head, sub, cfg)
        ref = snr * _band_std(X, int(np.argmax(np.abs(P[:, 0]))), band, sf)
        y = np.repeat(_balanced(rng, n_trials), n_segments)
        alpha = _bank(rng, 2, n * T, sf, 0.0, band).reshape(2, n, T)
        # trial and segment strength of the rhythm: mostly shared by both hemispheres
        trial_jit = np.repeat(np.exp(rng.normal(0, 0.1, n_trials)), n_segments)
        jit = trial_jit[None] * np.exp(rng.normal(0, 0.15, n)[None] + rng.normal(0, 0.07, (2, n)))
        g = ref * level * asym[:, None] * jit * gains(m, y)
        X += np.einsum("ck,knt->nct", P, g[:, :, None] * alpha)
        Xs.append(X.astype(np.float32))
        truths.append(np.broadcast_to(w[None, :, None], X.shape).astype(np.float32))
        seg = np.tile(np.arange(n_segments), n_trials)
        metas.append(pd.DataFrame({
            "subject": s, "trial": np.repeat(np.arange(1, n_trials + 1), n_segments),
            "segment": seg, "onset": seg * lay.seconds, "alpha_freq": sub.alpha_freq,
            "label": y}))
    meta = pd.concat(metas, ignore_index=True)
    y = meta.pop("label").to_numpy()
    freqs = np.fft.rfftfreq(T, 1 / sf)
    tf = w[:, None] * _band_mask(freqs, [ALPHA_BAND_ALL])[None]
    w_side = [truth_weights(P[:, [k]]) for k in range(2)]
    planted = {**_planted_info(ch, w, elec, idx, head),
               "channels_by_hemisphere": {
                   side: [ch[i] for i in np.argsort(-w_side[k], kind="stable")
                          if w_side[k][i] >= TRUTH_THRESHOLD]
                   for k, side in enumerate(("left", "right"))},
               "band_hz": ALPHA_BAND_ALL,
               "bands_hz": {"alpha": ALPHA_BAND_ALL},
               "alpha_peak": f"subject alpha peak +-{ALPHA_HALF_WIDTH} Hz (meta['alpha_freq'])",
               "window_s": "whole segment", "snr": snr}
    info = {"planted": planted, "reference": cfg["reference"], "n_trials": n_trials,
            "n_segments": n_segments}
    return Xs, y, meta, truths, tf, list(lay.class_names), info


def _auditory_gains(m, y):
    # attended side s = -1 (left, class 0) / +1 (right, class 1): alpha rises over the
    # hemisphere ipsilateral to the attended side and falls over the contralateral one
    side = 2.0 * y - 1.0
    return np.stack([1 - m * side, 1 + m * side])  # (left generator, right generator)


def _attention_gains(m, y):
    # internal attention (class 1): parieto-occipital alpha up in both hemispheres
    sign = 2.0 * y - 1.0
    return np.stack([1 + m * sign, 1 + m * sign])


def _sim_auditory(seed, n_subjects, difficulty, quick, n_trials=None, n_segments=None,
                  positions=None):
    Xs, y, meta, truths, tf, names, info = _alpha_task(
        "auditory", seed, n_subjects, difficulty, quick, n_trials, n_segments, positions,
        _auditory_gains, 2)
    meta["attended_ear"] = np.where(y == 1, "R", "L")
    info["planted"]["rule"] = ("attended side left (class 0): left parieto-occipital alpha "
                               "amplitude (1 + m), right (1 - m); attended right (class 1): "
                               "reversed (alpha up ipsilateral, down contralateral to the "
                               "attended side)")
    # attended side -> hemisphere whose alpha rises (ipsilateral)
    info["planted"]["alpha_up_hemisphere"] = {"left": "left", "right": "right"}
    return Xs, y, meta, truths, tf, names, info


def _sim_attention(seed, n_subjects, difficulty, quick, n_trials=None, n_segments=None,
                   positions=None):
    Xs, y, meta, truths, tf, names, info = _alpha_task(
        "attention", seed, n_subjects, difficulty, quick, n_trials, n_segments, positions,
        _attention_gains, 2)
    meta["task"] = np.where(y == 1, "internal", "external")
    info["planted"]["rule"] = ("internal attention (class 1): alpha amplitude (1 + m) at both "
                               "parieto-occipital generators; external (class 0): (1 - m)")
    return Xs, y, meta, truths, tf, names, info


# ---------------------------------------------------------------------------------------
# semi-synthetic: real EEGBCI background, planted burst
# ---------------------------------------------------------------------------------------
SEMI_BAND = (9.0, 13.0)  # the planted mu burst (Hz)


def _sim_semi_eegbci(seed, n_subjects, difficulty, quick, data_dir=None, runs=(4, 8, 12),
                     positions=None, snr=None, include_rest=False):
    from eegnb.data.loaders import load_eegbci

    if data_dir is None or str(data_dir) == "":
        raise ValueError("simulate('semi-eegbci') needs data_dir: the folder holding the "
                         "EEGBCI subject folders S001/, S002/, ... (S###R04.edf etc.)")
    lay = LAYOUTS["eegbci"]
    sf, T, ch = lay.sfreq, lay.n_times, lay.ch_names
    head = _head("eegbci", ch, positions)
    snr = effect_size("semi-eegbci", difficulty) if snr is None else float(snr)
    elec = ["C4", "C3"]  # class 0 (left hand) -> right hemisphere, class 1 -> left
    # the recordings' own reference: the real data already carry it, the burst gets linked ears
    P, idx = _evidence_sources(head, elec, "ears")
    w_side = [truth_weights(P[:, [k]]) for k in range(2)]
    burst_len = int(2.0 * sf)
    # runs of different tasks are loaded apart (their T1/T2 cues mean different movements; the
    # planted labels ignore the cues, so the backgrounds can be pooled afterwards)
    groups = {}
    for r in runs:
        groups.setdefault((int(r) - 3) % 4, []).append(int(r))
    loaded = [load_eegbci(data_dir, subjects=list(range(1, n_subjects + 1)), runs=tuple(g),
                          include_rest=include_rest) for g in groups.values()]
    Xs, truths, metas = [], [], []
    for s in range(1, n_subjects + 1):
        parts = [d.by_subject(s) for d in loaded]
        part = SimpleNamespace(X=np.concatenate([q.X for q in parts]), y=np.concatenate([q.y for q in parts]),
                               meta=pd.concat([q.meta for q in parts], ignore_index=True))
        rng = _rng(seed, "semi-eegbci", "data", s)
        Xr = part.X.astype(np.float64)
        Xr -= Xr.mean(axis=-1, keepdims=True)  # demeaned, as simulate() does for the others
        n = len(Xr)
        y = _balanced(rng, n)  # planted labels, independent of the real cues
        ref = [snr * _band_std(Xr, int(np.argmax(np.abs(P[:, k]))), SEMI_BAND, sf)
               for k in range(2)]
        burst = _bank(rng, 1, n * T, sf, 0.0, SEMI_BAND).reshape(n, T)
        start = rng.integers(int(0.5 * sf), T - burst_len - int(0.25 * sf), n)
        env = _tukey_env(n, T, start, burst_len)
        amp = np.where(y == 0, ref[0], ref[1])
        pat = P[:, y].T  # (n, ch): the pattern of each sample's source
        X = Xr + pat[:, :, None] * (amp[:, None] * env * burst)[:, None, :]
        wt = np.stack([w_side[k] for k in y])
        Xs.append(X.astype(np.float32))
        truths.append((wt[:, :, None] * env[:, None, :]).astype(np.float32))
        metas.append(pd.DataFrame({"subject": s, "run": part.meta["run"].to_numpy(),
                                   "trial": part.meta["trial"].to_numpy(),
                                   "onset": part.meta["onset"].to_numpy(),
                                   "real_label": part.y, "burst_onset": start / sf,
                                   "label": y}))
    meta = pd.concat(metas, ignore_index=True)
    y = meta.pop("label").to_numpy()
    freqs = np.fft.rfftfreq(T, 1 / sf)
    w = truth_weights(P)
    tf = w[:, None] * _band_mask(freqs, [SEMI_BAND])[None]
    info = {"planted": {**_planted_info(ch, w, elec, idx, head),
                        "channels_by_class": {
                            "left_hand": [ch[i] for i in np.argsort(-w_side[0])
                                          if w_side[0][i] >= TRUTH_THRESHOLD],
                            "right_hand": [ch[i] for i in np.argsort(-w_side[1])
                                           if w_side[1][i] >= TRUTH_THRESHOLD]},
                        "bands_hz": {"mu": SEMI_BAND}, "window_s": burst_len / sf,
                        "snr": snr,
                        "rule": "a 2 s mu burst from the source under C4 (left hand) or C3 "
                                "(right hand), in-band amplitude SNR x the recording's own "
                                "in-band std at the peak channel"},
            "semi_synthetic": True, "background": "real EEGBCI recordings (demeaned epochs)",
            "runs": list(runs), "data_dir": str(data_dir)}
    return Xs, y, meta, truths, tf, ["left_hand", "right_hand"], info


# ---------------------------------------------------------------------------------------
# sleep
# ---------------------------------------------------------------------------------------
def calibrate_hypnogram(paths, *, trim_wake_min: float = 30.0, n_parts: int = 3) -> pd.DataFrame:
    """Markov transition table of the sleep stages, estimated from Sleep-EDF hypnograms.

    Reads each ``*-Hypnogram.edf`` with ``mne.read_annotations``, cuts it into 30 s epochs,
    maps R&K stages to AASM (3 and 4 -> N3), drops "Movement time" and "?" epochs, and
    trims wake before the first and after the last sleep epoch to ``trim_wake_min``
    minutes (the usual Sleep-EDF-20 practice). Returns one row per (night part, from
    stage): ``part`` (1..n_parts, thirds of the night by default), ``from``, the
    probabilities of moving to each stage, ``n`` (transitions counted) and
    ``proportion`` (share of epochs in that stage in that part). The night length
    statistics are in ``df.attrs``. The committed ``sleep_transitions.csv`` came from the
    20 cassette hypnograms of subjects 0-9.
    """

    mapping = {"Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2, "Sleep stage 3": 3,
               "Sleep stage 4": 3, "Sleep stage R": 4}
    paths = [Path(p) for p in paths]
    if not paths:
        raise FileNotFoundError("calibrate_hypnogram needs at least one *-Hypnogram.edf")
    K = len(SLEEP_STAGES)
    counts = np.zeros((n_parts, K, K))
    occ = np.zeros((n_parts, K))
    lengths = []
    for p in paths:
        stages = hypnogram_epochs(p, mapping)
        asleep = np.flatnonzero(stages > 0)
        if len(asleep) == 0:
            continue
        keep = int(trim_wake_min * 2)
        lo, hi = max(asleep[0] - keep, 0), min(asleep[-1] + keep + 1, len(stages))
        seq = stages[lo:hi]
        lengths.append(int((seq >= 0).sum()))
        part = np.minimum((np.arange(len(seq)) * n_parts) // len(seq), n_parts - 1)
        for i in range(len(seq) - 1):
            a, b = seq[i], seq[i + 1]
            if a >= 0 and b >= 0:  # skip transitions across dropped epochs
                counts[part[i], a, b] += 1
        for i, a in enumerate(seq):
            if a >= 0:
                occ[part[i], a] += 1
    rows = []
    for q in range(n_parts):
        for a in range(K):
            c = counts[q, a] + 0.5 * (counts[q].sum(0) > 0)  # tiny prior on seen targets
            prob = c / c.sum() if c.sum() else np.eye(K)[a]
            rows.append({"part": q + 1, "from": SLEEP_STAGES[a],
                         **{st: round(float(v), 5) for st, v in zip(SLEEP_STAGES, prob)},
                         "n": int(counts[q, a].sum()),
                         "proportion": round(float(occ[q, a] / occ[q].sum()), 5)})
    df = pd.DataFrame(rows)
    df.attrs = {"n_nights": len(lengths), "mean_epochs": float(np.mean(lengths)),
                "sd_epochs": float(np.std(lengths))}
    return df


def hypnogram_epochs(path, mapping=None) -> np.ndarray:
    """Stage index per 30 s epoch of one hypnogram EDF (W=0 .. REM=4; -1 dropped/unknown)."""
    import mne

    if mapping is None:
        mapping = {"Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2,
                   "Sleep stage 3": 3, "Sleep stage 4": 3, "Sleep stage R": 4}
    try:
        ann = mne.read_annotations(path)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read hypnogram {path}: {e}") from e
    end = float(np.max(ann.onset + ann.duration)) if len(ann) else 0.0
    stages = -np.ones(int(round(end / 30.0)), dtype=int)
    for onset, dur, desc in zip(ann.onset, ann.duration, ann.description):
        i0, n = int(round(onset / 30.0)), int(round(dur / 30.0))
        stages[i0:i0 + n] = mapping.get(desc, -1)
    return stages


def save_transitions(df: pd.DataFrame, path=TRANSITIONS_CSV) -> Path:
    """Write a :func:`calibrate_hypnogram` table as CSV, night statistics as a comment line."""
    path = Path(path)
    a = df.attrs
    head = (f"# Sleep-EDF hypnogram Markov table (eegnb.data.simulate.calibrate_hypnogram)\n"
            f"# n_nights={a.get('n_nights', 0)}, mean_epochs={a.get('mean_epochs', 0):.1f}, "
            f"sd_epochs={a.get('sd_epochs', 0):.1f}\n")
    path.write_text(head + df.to_csv(index=False))
    return path


def load_transitions(path=TRANSITIONS_CSV) -> tuple[np.ndarray, dict]:
    """The committed transition table as an array ``(part, from, to)`` plus night stats."""
    df = pd.read_csv(path, comment="#")
    stats = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("#") and "=" in line:
            for kv in line[1:].split(","):
                k, v = kv.strip().split("=")
                stats[k.strip()] = float(v)
    parts = sorted(df["part"].unique())
    P = np.stack([df[df["part"] == q].set_index("from").loc[SLEEP_STAGES, SLEEP_STAGES]
                  .to_numpy(float) for q in parts])
    P /= P.sum(-1, keepdims=True)
    return P, stats


def simulate_hypnogram(rng, n_epochs: int, P: np.ndarray | None = None) -> np.ndarray:
    """A night of ``n_epochs`` stage indices from the Markov chain ``P (part, from, to)``."""
    if P is None:
        P, _ = load_transitions()
    n_parts = len(P)
    out = np.empty(n_epochs, dtype=int)
    out[0] = 0
    u = rng.random(n_epochs)
    cum = np.cumsum(P, axis=-1)
    for i in range(1, n_epochs):
        q = min(i * n_parts // n_epochs, n_parts - 1)
        out[i] = min(int(np.searchsorted(cum[q, out[i - 1]], u[i])), len(SLEEP_STAGES) - 1)
    return out


PLANTED_EFFECTS = pd.DataFrame([
    ("N3", "eeg", "age", -1, "delta amplitude x (1 - 0.5 (age - 25) / 75)"),
    ("N2", "eeg", "age", -1, "spindle amplitude x (1 - 0.3 (age - 25) / 75)"),
    ("N2", "eeg", "medication", +1, "temazepam: spindle density x 1.6"),
    ("REM", "eog", "medication", -1, "temazepam: rapid eye movement amplitude x 0.65"),
    ("W", "emg", "sex", -1, "female: wake EMG tone contrast 1.3 -> 0.94 (log scale)"),
], columns=["stage", "modality", "covariate", "sign", "description"])
PLANTED_EFFECTS.attrs["coding"] = {"age": "years", "medication": "temazepam=1, placebo=0",
                                   "sex": "female=1, male=0"}

MODALITY_EVIDENCE = {"W": "emg", "N1": "eog", "N2": "eeg", "N3": "eeg", "REM": "eog"}
SECONDARY_EVIDENCE = {
    "W": "eeg alpha (8-12 Hz), eye blinks in eog",
    "N1": "eeg theta (4-7 Hz), intermediate emg tone",
    "N2": "low emg tone",
    "N3": "delta leaking into eog, low emg tone",
    "REM": "emg atonia, low-amplitude eeg theta",
}


def _events(rng, n_epochs, rate, n_times):
    """Poisson event positions per epoch: list of (epoch, sample) arrays."""
    counts = rng.poisson(rate)
    ep = np.repeat(np.arange(n_epochs), counts)
    return ep, rng.integers(0, n_times, len(ep))


def _add_events(out, truth, ep, t0, waves, mark=True):
    """Add waveforms ``waves[k]`` at (epoch ``ep[k]``, sample ``t0[k]``), clipped to the epoch."""
    T = out.shape[1]
    for e, t, w in zip(ep, t0, waves):
        a, b = t, min(t + len(w), T)
        out[e, a:b] += w[: b - a]
        if mark and truth is not None:
            env = np.abs(w[: b - a])
            truth[e, a:b] = np.maximum(truth[e, a:b], env > 0.05 * np.abs(w).max())


def _sim_sleep(seed, n_subjects, difficulty, quick, epochs_per_night=None, ages=None):
    lay = LAYOUTS["sleep-edf"]
    sf, T = lay.sfreq, lay.n_times
    epochs_per_night = epochs_per_night or (40 if quick else 200)
    if ages is not None and len(ages) < n_subjects:
        raise ValueError(f"ages needs one age per subject ({n_subjects}); got {len(ages)}")
    m = effect_size("sleep-edf", difficulty)
    P, stats = load_transitions()
    mean_len, sd_len = stats.get("mean_epochs", 1000.0), stats.get("sd_epochs", 100.0)
    Xs, truths, metas, ys = [], [], [], []
    hypnograms = {}
    for s in range(1, n_subjects + 1):
        rs = _rng(seed, "sleep", "subject", s)
        age = float(ages[s - 1]) if ages is not None else float(np.round(rs.uniform(25, 100)))
        female = int(rs.random() < 0.5)
        order = rs.permutation([0, 1])  # which night gets temazepam
        alpha_f = float(np.clip(rs.normal(10.0, 0.8), 8.5, 12))
        spindle_f = float(np.clip(rs.normal(13.0, 0.7), 11.5, 14.5))
        g_eeg, g_eog, g_emg = np.exp(rs.normal(0, 0.2, 3))
        expo = float(rs.uniform(-2.0, -1.5))
        age_n = (age - 25.0) / 75.0
        for night in (1, 2):
            temaz = int(order[night - 1])
            rng = _rng(seed, "sleep", "night", s, night)
            n_night = int(np.clip(rng.normal(mean_len, sd_len), 600, 1400))
            hyp = simulate_hypnogram(rng, n_night, P)
            hypnograms[f"SIM{s:03d}N{night}"] = hyp.astype(np.int8)
            k = min(epochs_per_night, n_night)
            sel = np.sort(rng.choice(n_night, k, replace=False))
            st = hyp[sel]
            n, L = k, k * T
            X = np.zeros((n, 3, T))
            tr = np.zeros((n, 3, T))
            is_ = {name: (st == i) for i, name in enumerate(SLEEP_STAGES)}

            def stage_amp(vals, is_=is_):
                return np.select([is_[k_] for k_ in SLEEP_STAGES], vals)[:, None]

            # --- EEG (Fpz-Cz) ---
            eeg = 12.0 * _powerlaw(rng, L, sf, expo, f_range=(0.3, None)).reshape(n, T)
            alpha = _narrowband(rng, L, sf, (alpha_f - 1, alpha_f + 1)).reshape(n, T)
            theta = _narrowband(rng, L, sf, (4.0, 7.0)).reshape(n, T)
            delta = _narrowband(rng, L, sf, (0.5, 2.0)).reshape(n, T)
            eeg += m * stage_amp([10.0, 2.0, 0, 0, 0]) * alpha
            eeg += m * stage_amp([0, 10.0, 3.0, 0, 5.0]) * theta
            delta_amp = 50.0 * (1 - 0.5 * age_n)
            eeg += m * stage_amp([0, 0, 3.0, delta_amp, 0]) * delta
            tr[:, 0] = np.where(is_["N3"][:, None], 1.0, 0.0)
            # N2 spindles and K-complexes (transients, marked where they are)
            n2 = np.flatnonzero(is_["N2"])
            rate = 2.5 * (1.6 if temaz else 1.0)
            ep, t0 = _events(rng, len(n2), np.full(len(n2), rate), T)
            sp_amp = 35.0 * (1 - 0.3 * age_n) * m
            waves = []
            for _ in ep:
                dur = rng.uniform(0.6, 1.5)
                tt = np.arange(int(dur * sf)) / sf
                f = spindle_f + rng.normal(0, 0.3)
                waves.append(sp_amp * np.hanning(len(tt)) * np.sin(2 * np.pi * f * tt
                                                                   + rng.uniform(0, 2 * np.pi)))
            eeg_n2 = np.zeros((len(n2), T))
            tr_n2 = np.zeros((len(n2), T))
            _add_events(eeg_n2, tr_n2, ep, t0, waves)
            ep, t0 = _events(rng, len(n2), np.full(len(n2), 1.0), T)
            kc = []
            for _ in ep:
                tt = np.arange(int(1.2 * sf)) / sf
                a = 120.0 * m * rng.uniform(0.8, 1.2)
                kc.append(a * (-np.exp(-((tt - 0.35) / 0.12) ** 2)
                               + 0.6 * np.exp(-((tt - 0.8) / 0.18) ** 2)))
            _add_events(eeg_n2, tr_n2, ep, t0, kc)
            eeg[n2] += eeg_n2
            tr[n2, 0] = tr_n2
            X[:, 0] = g_eeg * eeg

            # --- EOG ---
            eog = 6.0 * _powerlaw(rng, L, sf, -1.0, f_range=(0.1, None)).reshape(n, T)
            eog += 0.15 * (eeg - eeg.mean(-1, keepdims=True))  # frontal EEG leaks into EOG
            sem = _narrowband(rng, L, sf, (0.15, 0.6)).reshape(n, T)
            eog += m * stage_amp([0, 50.0, 0, 0, 0]) * sem
            tr[:, 1] = np.where(is_["N1"][:, None], 1.0, 0.0)
            # rapid eye movements in REM: sharp saccade-like deflections
            rem = np.flatnonzero(is_["REM"])
            ep, t0 = _events(rng, len(rem), np.full(len(rem), 8.0), T)
            rem_amp = 150.0 * m * (0.65 if temaz else 1.0)
            sacc = []
            for _ in ep:
                tt = np.arange(int(rng.uniform(0.3, 0.7) * sf)) / sf
                rise = 1 - np.exp(-tt / 0.03)
                sacc.append(rng.choice([-1, 1]) * rem_amp * rng.uniform(0.6, 1.2) * rise
                            * np.exp(-tt / 0.25))
            eog_rem = np.zeros((len(rem), T))
            tr_rem = np.zeros((len(rem), T))
            _add_events(eog_rem, tr_rem, ep, t0, sacc)
            eog[rem] += eog_rem
            tr[rem, 1] = tr_rem
            # blinks in wake (secondary, unmarked)
            w_ix = np.flatnonzero(is_["W"])
            ep, t0 = _events(rng, len(w_ix), np.full(len(w_ix), 3.0), T)
            blinks = [60.0 * m * np.exp(-(((np.arange(40) / sf) - 0.2) / 0.07) ** 2) for _ in ep]
            eog_w = np.zeros((len(w_ix), T))
            _add_events(eog_w, None, ep, t0, blinks, mark=False)
            eog[w_ix] += eog_w
            X[:, 1] = g_eog * eog

            # --- EMG ---
            emg = _narrowband(rng, L, sf, (10.0, 45.0)).reshape(n, T)
            # tone on a log scale around N2: high in W, lowest in REM (atonia)
            contrast = stage_amp([1.3 - (0.36 if female else 0.0), 0.4, 0.0, -0.1, -0.8])
            tone = 4.0 * np.exp(m * contrast)
            X[:, 2] = g_emg * tone * emg
            tr[:, 2] = np.where(is_["W"][:, None], 1.0, 0.0)

            Xs.append(X.astype(np.float32))
            truths.append(tr.astype(np.float32))
            ys.append(st)
            metas.append(pd.DataFrame({
                "subject": s, "night": night, "recording": f"SIM{s:03d}N{night}",
                "epoch": sel, "onset": sel * 30.0, "stage": [SLEEP_STAGES[i] for i in st],
                "age": age, "sex": "F" if female else "M",
                "medication": "temazepam" if temaz else "placebo",
            }))
    meta = pd.concat(metas, ignore_index=True)
    y = np.concatenate(ys)
    freqs = np.fft.rfftfreq(T, 1 / sf)
    tf = np.stack([_band_mask(freqs, [(0.5, 2.0), (11.0, 15.0)]),  # N3 delta + K, spindles
                   _band_mask(freqs, [(0.15, 5.0)]),  # slow and rapid eye movements
                   _band_mask(freqs, [(10.0, 45.0)])])  # EMG tone
    info = {"modality_evidence": dict(MODALITY_EVIDENCE),
            "secondary_evidence": dict(SECONDARY_EVIDENCE),
            "planted_effects": PLANTED_EFFECTS.copy(),
            "planted": {"truth": "dominant-modality evidence per stage: W EMG (whole epoch), "
                        "N1 EOG slow eye movements (whole epoch), N2 EEG spindles and "
                        "K-complexes (their samples), N3 EEG delta (whole epoch), REM EOG "
                        "rapid eye movements (their samples)"},
            "epochs_per_night": epochs_per_night, "hypnogram_table": str(TRANSITIONS_CSV.name),
            "hypnograms": hypnograms}
    return Xs, y, meta, truths, tf, list(SLEEP_STAGES), info


_SIMULATORS = {"deap": _sim_deap, "seed": _sim_seed, "eegbci": _sim_eegbci,
               "sleep-edf": _sim_sleep, "semi-eegbci": _sim_semi_eegbci,
               "auditory": _sim_auditory, "attention": _sim_attention}
#: semi-synthetic layouts and the real layout whose shape they have (not in LAYOUTS: they
#: need real files)
SEMI_LAYOUTS = {"semi-eegbci": "eegbci"}
DEFAULT_DIFFICULTY = 0.5


def simulate(layout: str, *, n_subjects: int, seed: int = 0,
             difficulty: float = DEFAULT_DIFFICULTY, quick: bool = False,
             **layout_kw) -> EEGData:
    """Simulated EEG shaped like ``layout`` with planted, known class evidence.

    Parameters
    ----------
    layout : "deap" | "seed" | "eegbci" | "sleep-edf" | "semi-eegbci" (real background,
        needs ``data_dir``) | "auditory" | "attention" (paper 3's other two tasks)
    n_subjects : number of subjects (numbered 1..n_subjects in ``subject``/``meta``).
    seed : fixes every random draw (a subject's data do not depend on ``n_subjects``).
    difficulty : 0 (easiest: deepest modulation; scalp layouts in-band SNR 6-10) .. 1
        (hardest); default 0.5 (scalp SNR 2.5, the realism calibration). notebooks/02_data
        records EEGNet's accuracy.
    quick : smaller sizes per subject (for tests and quick notebook runs).
    layout_kw : "deap": ``label`` ("arousal"|"valence"), ``n_trials`` (40; quick 12),
        ``n_segments`` (3; quick 2). "seed": ``n_classes`` (2|3), ``n_segments`` (8;
        quick 3), ``n_sessions`` (1). "eegbci": ``n_trials`` (45; quick 20).
        "semi-eegbci": ``data_dir`` (required), ``runs`` ((4, 8, 12); runs of
        different tasks are loaded apart and pooled, since the planted labels ignore the cues),
        ``snr`` (override of the difficulty's in-band SNR), ``include_rest`` (also the rest
        epochs after T0 cues as background: twice the samples). The scalp layouts
        take ``positions`` ({channel: (3,) m}) to move electrodes in the lead field (the
        evidence dipoles stay put, so the truth moves with the electrodes).
        "sleep-edf": ``epochs_per_night`` (200; quick 40), ``ages`` (per subject).
        "auditory", "attention": ``n_trials`` (20; quick 8) trials per subject (an even
        split of the two classes), ``n_segments`` (6; quick 3) 4 s windows per trial.

    Returns an :class:`EEGData` with ``X (n, ch, t)`` in uV, ``truth (n, ch, t)``,
    ``truth_freq (ch, t // 2 + 1)`` and ``info`` describing what was planted.
    """
    lay = get_layout(SEMI_LAYOUTS.get(layout, layout))
    if int(n_subjects) < 1:
        raise ValueError(f"n_subjects must be >= 1; got {n_subjects}")
    effect_size(layout, difficulty)  # validates difficulty
    fn = _SIMULATORS[layout]
    Xs, y, meta, truths, tf, class_names, info = fn(int(seed), int(n_subjects),
                                                    float(difficulty), bool(quick), **layout_kw)
    X = np.concatenate(Xs)
    if layout not in SEMI_LAYOUTS:  # (semi: the real part is demeaned, the burst kept exact)
        X -= X.mean(axis=-1, keepdims=True)  # segments are demeaned, as after preprocessing
    truth = np.concatenate(truths)
    info = {"layout": layout, "simulated": True, "unit": "uV", "seed": int(seed),
            "difficulty": float(difficulty), "effect": effect_size(layout, difficulty),
            "quick": bool(quick), "layout_kw": dict(layout_kw), **info}
    return EEGData(X=X, y=y, subject=meta["subject"].to_numpy(), sfreq=lay.sfreq,
                   ch_names=list(lay.ch_names), ch_types=lay.types, class_names=class_names,
                   meta=meta, truth=np.clip(truth, 0, 1), truth_freq=tf, info=info)
