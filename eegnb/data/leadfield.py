"""Lead fields for the simulation: how a dipole inside the head shows up at each electrode.

``head_model(ch_names, positions=None)`` builds, with MNE and no download, a three-layer
spherical head (``mne.make_sphere_model("auto", "auto", info)``, fitted to the electrode
positions of the 10-05 montage), a volume source space of dipoles on a 10 mm grid inside
it (``mne.setup_volume_source_space(sphere=...)``), and the EEG forward solution
(``mne.make_forward_solution``) with free orientation: three columns per dipole. The
simulation then picks an orientation per dipole (random for the background, radial for
the planted evidence, see :mod:`eegnb.data.simulate`). Potentials are against infinity;
:func:`project` applies the montage's reference (average, or linked earlobes A1/A2,
whose lead fields are computed with the channels).

For a sphere model the forward solution is analytic and takes well under a second, so the
lead fields are cached in memory only (keyed on channel names, positions, grid spacing and the
MNE version); nothing is written to or read from disk.

Hand-written (MNE has no such helpers): picking the dipole or the cortical patch under an
electrode, the radial orientation and the graded truth weights (:func:`truth_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eegnb.data.layouts import channel_positions, standard_montage

REFERENCE_SITES = ("A1", "A2")  # earlobes: the linked-ears reference
GRID_MM = 10.0


@dataclass(frozen=True)
class Head:
    """Forward model of one channel set.

    ``G (ch, S, 3)`` potentials (V per A·m) at the channels against infinity; ``G_ref
    (2, S, 3)`` the same at the earlobes; ``rr (S, 3)`` dipole positions (m, head frame);
    ``r0 (3,)`` sphere centre; ``inner`` inner-skull radius (m); ``ch_names``.
    """

    G: np.ndarray
    G_ref: np.ndarray
    rr: np.ndarray
    r0: np.ndarray
    inner: float
    ch_names: tuple

    @property
    def n_sources(self) -> int:
        return self.rr.shape[0]


_CACHE: dict = {}


def head_model(ch_names: list[str], positions: dict | None = None,
               spacing_mm: float = GRID_MM) -> Head:
    """Spherical head + volume source space + EEG forward solution for ``ch_names``.

    ``positions`` (name -> (3,) m, head frame) overrides the 10-05 position of the channels
    it names (used to check that the planted truth follows the lead field). Cached in memory.
    """
    import mne

    ch_names = list(ch_names)
    pos = channel_positions(ch_names, strict=True)
    for k, v in (positions or {}).items():
        if k not in pos:
            raise ValueError(f"positions names {k!r}, which is not one of the channels")
        v = np.asarray(v, dtype=float)
        if v.shape != (3,):
            raise ValueError(f"positions[{k!r}] must be a 3-vector in metres; got shape {v.shape}")
        pos[k] = v
    key = (tuple(ch_names), tuple(np.round(np.concatenate([pos[c] for c in ch_names]), 6)),
           float(spacing_mm), mne.__version__)
    if key in _CACHE:
        return _CACHE[key]
    ref = channel_positions(list(REFERENCE_SITES), strict=True)
    names = ch_names + [f"__ref_{r}" for r in REFERENCE_SITES]
    allpos = {**{c: pos[c] for c in ch_names},
              **{f"__ref_{r}": ref[r] for r in REFERENCE_SITES}}
    fid = standard_montage().get_positions()
    mont = mne.channels.make_dig_montage(ch_pos=allpos, nasion=fid["nasion"], lpa=fid["lpa"],
                                         rpa=fid["rpa"], coord_frame="head")
    info = mne.create_info(names, 100.0, "eeg")
    info.set_montage(mont, verbose="error")
    # the sphere is fitted to the 10-05 positions of the 64 EEGBCI (10-10) electrodes, in the
    # same frame as the channels, whatever the layout (so overriding a position or choosing
    # another channel set does not move the head)
    from eegnb.data.layouts import EEGBCI_CHANNELS

    fit_pos = channel_positions(EEGBCI_CHANNELS, strict=True)
    std_info = mne.create_info(EEGBCI_CHANNELS, 100.0, "eeg")
    std_info.set_montage(mne.channels.make_dig_montage(
        ch_pos=fit_pos, nasion=fid["nasion"], lpa=fid["lpa"], rpa=fid["rpa"],
        coord_frame="head"), verbose="error")
    sphere = mne.make_sphere_model("auto", "auto", std_info, verbose="error")
    src = mne.setup_volume_source_space(sphere=sphere, pos=float(spacing_mm), mindist=5.0,
                                        verbose="error")
    fwd = mne.make_forward_solution(info, trans=None, src=src, bem=sphere, eeg=True, meg=False,
                                    verbose="error")
    G = np.asarray(fwd["sol"]["data"], dtype=np.float64).reshape(len(names), -1, 3)
    n = len(ch_names)
    head = Head(G=G[:n], G_ref=G[n:], rr=np.asarray(fwd["source_rr"]),
                r0=np.asarray(sphere["r0"], dtype=float),
                inner=float(sphere["layers"][0]["rad"]), ch_names=tuple(ch_names))
    _CACHE[key] = head
    return head


def _reference(g_ch: np.ndarray, g_ref: np.ndarray, reference: str) -> np.ndarray:
    """Re-reference sensor patterns ``g_ch (ch, k)`` (earlobe rows ``g_ref (2, k)``)."""
    if reference == "average":
        return g_ch - g_ch.mean(axis=0, keepdims=True)
    if reference == "ears":
        return g_ch - g_ref.mean(axis=0, keepdims=True)
    if reference == "none":
        return g_ch
    raise ValueError(f"reference must be 'average', 'ears' or 'none'; got {reference!r}")


def project(head: Head, idx: np.ndarray, orient: np.ndarray, reference: str) -> np.ndarray:
    """Referenced lead field of dipoles ``idx (k,)`` with unit orientations ``orient (k, 3)``:
    ``(ch, k)``."""
    idx = np.asarray(idx)
    g_ch = np.einsum("csk,sk->cs", head.G[:, idx], orient)
    g_ref = np.einsum("csk,sk->cs", head.G_ref[:, idx], orient)
    return _reference(g_ch, g_ref, reference)


def standard_position(name: str) -> np.ndarray:
    """10-05 position (m) of electrode ``name`` on the standard montage (not a layout override)."""
    return channel_positions([name], strict=True)[name]


def source_under(head: Head, electrode: str, depth: float = 0.015) -> tuple[int, np.ndarray]:
    """The grid dipole nearest the point ``depth`` m below the inner skull, on the radius
    through the standard position of ``electrode``; returns ``(index, radial unit orientation)``.

    Radial: the orientation of pyramidal cells at a gyral crown, the dipole EEG sees best.
    """
    e = standard_position(electrode) - head.r0
    target = head.r0 + e / np.linalg.norm(e) * (head.inner - depth)
    i = int(np.argmin(np.linalg.norm(head.rr - target, axis=1)))
    o = head.rr[i] - head.r0
    return i, o / np.linalg.norm(o)


def patch_under(head: Head, electrode: str, depth: float = 0.015,
                radius: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Grid dipoles of a cortical patch: every dipole within ``radius`` m of the point
    ``depth`` m below the inner skull under ``electrode``, at depths between ``depth`` - 0.5 cm
    and ``depth`` + 0.5 cm, with radial orientations. Returns ``(indices (k,), orientations
    (k, 3))``; driven by one signal, the patch is one extended generator.
    """
    e = standard_position(electrode) - head.r0
    target = head.r0 + e / np.linalg.norm(e) * (head.inner - depth)
    rel = head.rr - head.r0
    rad = np.linalg.norm(rel, axis=1)
    sel = np.flatnonzero((np.linalg.norm(head.rr - target, axis=1) <= radius)
                         & (np.abs(head.inner - rad - depth) <= 0.005 + 1e-9))
    if len(sel) == 0:
        sel = np.array([source_under(head, electrode, depth)[0]])
    return sel, rel[sel] / rad[sel, None]


def truth_weights(patterns: np.ndarray, floor: float = 0.01) -> np.ndarray:
    """Graded channel weight of evidence sources with sensor ``patterns (ch, k)``.

    The summed lead-field power of the sources (independent signals add in power),
    normalised to max 1; weights below ``floor`` are set to 0 (there the planted signal has
    under ``sqrt(floor)`` = 10 % of its peak amplitude). Returns ``(ch,)`` in [0, 1].
    """
    p = (np.asarray(patterns, dtype=float).reshape(len(patterns), -1) ** 2).sum(axis=1)
    w = p / p.max()
    w[w < floor] = 0.0
    return w
