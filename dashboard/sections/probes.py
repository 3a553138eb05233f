"""Watch it learn: the probe set's answers after an epoch (live on Train, replayed on Runs) and
the latent film strip, scrubbed epoch by epoch. Reads what core.training.probes saved in the run
folder through core.latent.film; draws only."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import UserError
from core.latent import film
from core.runs.store import Run
from dashboard import state
from dashboard.figures import compare_runs_figure, film_figure
from dashboard.images import gallery_png, to_display
from dashboard.presentation import chart
from dashboard.text import plain

MIN_SIDE = 40  # px: a probe picture (digits: 8x8 -> 40x40)


def _mtime(run: Run, epoch: int | None = None) -> float:
    path = run.path / film.DIR / (f"epoch-{epoch:04d}.npz" if epoch else "images.npz")
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(max_entries=64, show_spinner=False)
def _picture(folder: str, epoch: int, _mtime: float, width: int) -> tuple[bytes, int, int]:
    """One PNG of every probe with its answer; (png, right answers, probes)."""
    probes, answers = film.probe_set(folder), film.answers(folder, epoch)
    shown = to_display(probes.images, MIN_SIDE)
    if "predicted" in answers:
        predicted, confidence = answers["predicted"], answers["confidence"]
        right = predicted == probes.labels
        labels = [f"{'✓' if ok else '✗'} {probes.classes[p] if p < len(probes.classes) else p}\n"
                  f"{c:.2f}" for ok, p, c in zip(right, predicted, confidence)]
        return (gallery_png(shown, labels, max_width=width, gap=6, label_lines=2), int(right.sum()),
                len(right))
    recon = to_display(answers["reconstructions"], MIN_SIDE)
    pairs = [np.concatenate([o, np.zeros((o.shape[0], 3) + o.shape[2:], np.uint8) + 128, r], axis=1)
             for o, r in zip(shown, recon)]
    error = ((answers["reconstructions"].astype(np.float32) - probes.images) / 255.0) ** 2
    labels = [f"{probes.classes[c]} {e:.3f}" for c, e in zip(probes.labels, error.mean(axis=(1, 2, 3)))]
    return gallery_png(pairs, labels, max_width=width, gap=6), -1, len(pairs)


def render_probes(run: Run, epoch: int | None = None, width: int = 420) -> None:
    """The probe set's answers after `epoch` (the latest saved when None); a line while there is
    none yet."""
    found = film.epochs(run.path)
    if not found:
        st.caption("The model's answers on a fixed set of images appear here after each epoch.")
        return
    epoch = found[-1] if epoch is None or epoch not in found else epoch
    try:
        png, right, n = _picture(str(run.path), epoch, _mtime(run, epoch), width)
    except UserError as exc:
        st.caption(f"Probe answers unavailable: {plain(exc)}")
        return
    what = (f"{right} of {n} right, with the model's confidence" if right >= 0
            else "original | reconstruction, with the mean squared error")
    st.image(png, caption=f"After epoch {epoch}: {what}")


def _loss_cursor(run: Run, epoch: int) -> None:
    """The run's validation loss per epoch with a cursor at the scrubbed epoch."""
    try:
        records = run.metrics()
    except Exception:  # a broken metrics file: the replay still shows what it has
        return
    fig = compare_runs_figure({"validation loss": records}, "val_loss")
    fig.add_vline(x=epoch, line=dict(color="#E4572E", width=3))
    fig.update_layout(height=220, showlegend=False, yaxis_title="val loss")
    chart(fig, key=f"replay_cursor_{run.id}")


@st.cache_data(max_entries=16, show_spinner=False)
def _film(folder: str, _stamp: tuple) -> film.Film | None:
    return film.film_strip(folder)


def render_replay(run: Run) -> None:
    """Scrub the run epoch by epoch: its answers on the probe set beside its codes on one map
    (the final epoch's PCA plane), so points move as the model learns."""
    found = film.epochs(run.path)
    if not found:
        st.caption("This run has no saved probe answers (trained before they were saved).")
        return
    try:
        strip = _film(str(run.path), (tuple(found), _mtime(run, found[-1])))
        probes = film.probe_set(run.path)
    except UserError as exc:
        st.caption(f"Replay unavailable: {plain(exc)}")
        return
    epoch = found[-1]
    if len(found) > 1:
        epoch = state.bound(st.select_slider, f"replay_epoch_{run.id}",
                            state.keyed("runs.replay_epoch", run.id), "Epoch", found,
                            default=found[-1], valid=lambda v: v in found)
    cols = st.columns([2, 3])
    with cols[0]:
        render_probes(run, epoch)
        _loss_cursor(run, epoch)
    with cols[1]:
        if strip is None:
            st.caption("Codes of fewer than two dimensions: no map.")
            return
        lo, hi = strip.xy.min(axis=(0, 1)), strip.xy.max(axis=(0, 1))
        pad = (hi - lo) * 0.05 + 1e-9
        ranges = ((float(lo[0] - pad[0]), float(hi[0] + pad[0])),
                  (float(lo[1] - pad[1]), float(hi[1] + pad[1])))
        i = strip.epochs.index(epoch)
        chart(film_figure(strip.xy[i], strip.labels, probes.classes, strip.n_probe, epoch, ranges),
              key=f"film_{run.id}")
        st.caption(f"{len(strip.labels)} validation images' codes after each epoch, on the final "
                   f"epoch's two principal axes ({strip.explained[0]:.0%} and "
                   f"{strip.explained[1]:.0%} of its variance); outlined: the probe images.")
