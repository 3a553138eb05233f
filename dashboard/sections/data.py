"""Sections of the Data page. Each takes a loaded dataset and draws one thing."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import sampling
from core.data.dataset import ImageDataset
from core.data.preprocess import stages
from core.data.splits import SPLITS
from core.data.stats import class_counts, imbalance_ratio, pixel_stats
from dashboard import state
from dashboard.figures import class_balance_figure
from dashboard.images import display_width, framed, to_display
from dashboard.presentation import chart
from dashboard.text import count, noun, plain, sentence

IMBALANCE_WARNING = 3.0  # max/min above this: accuracy alone will mislead


def render_load_warnings(ds: ImageDataset) -> None:
    """What loading noticed: steps that blanked images, files that were not readable images."""
    for warning in ds.warnings:
        st.warning(sentence(warning))
    if not ds.skipped:
        return
    n = len(ds.skipped)
    st.warning(f"{count(n, 'file')} " + noun(n, "was skipped because it is not a readable image.",
                                            "were skipped because they are not readable images."))
    with st.expander("Skipped files"):
        st.dataframe({"file": [f for f, _ in ds.skipped], "reason": [r for _, r in ds.skipped]},
                     hide_index=True)


@st.cache_data(show_spinner=False, max_entries=8)
def _pixel_stats(spec_text: str, _images: np.ndarray) -> dict:
    return pixel_stats(_images)


def render_summary(ds: ImageDataset) -> None:
    """Images per split, image size, classes, and pixel statistics after preprocessing."""
    counts = class_counts(ds)
    c, h, w = ds.shape
    cols = st.columns(len(counts) + 2)
    for col, (split, n) in zip(cols, counts.items()):
        col.metric(f"{split} images", f"{int(n.sum()):,}")
    cols[-2].metric("image size", f"{h} x {w} x {c}", help="height x width x channels")
    cols[-1].metric("classes", len(ds.classes))
    stats = _pixel_stats(ds.spec.to_text(), ds.images)
    channels = ["gray"] if c == 1 else ["red", "green", "blue"][:c]
    st.caption("Pixel statistics on the 0..255 scale, after preprocessing"
               + (f" (a random sample of {stats['sampled']:,} of {stats['total']:,} images)"
                  if stats["sampled"] < stats["total"] else "")
               + f". Loaded in {ds.load_seconds:.2f} s" + (" from the workspace cache." if
                                                          ds.from_cache else "."))
    st.markdown(pixel_table(stats, channels))


def pixel_table(stats: dict, channels: list[str]) -> str:
    """Per-channel statistics as a Markdown table: a few numbers need neither pandas (0.3-0.5 s
    to import, on the cold start's path) nor the data grid's script in the browser."""
    keys = ("mean", "std", "min", "max")
    return "\n".join(["| channel | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"] + [
        f"| {ch} | " + " | ".join(f"{float(stats[k][i]):.2f}" for k in keys) + " |"
        for i, ch in enumerate(channels)])


def render_balance(ds: ImageDataset) -> None:
    """Images per class and split, the largest/smallest ratio, a warning when it is skewed."""
    counts = class_counts(ds)
    ratios = {split: imbalance_ratio(n) for split, n in counts.items()}
    chart(class_balance_figure(counts, ds.classes), key="balance_chart")
    st.markdown("**Largest / smallest class:** " + ", ".join(
        f"{split} {r:.1f}x" if np.isfinite(r) else f"{split}: a class has no images"
        for split, r in ratios.items()))
    worst = max(ratios.values())
    if worst > IMBALANCE_WARNING:
        st.warning("The classes are imbalanced: plain accuracy flatters a model that favours the "
                   "big classes. Judge models by balanced accuracy and macro F1.")


def render_decisions(ds: ImageDataset) -> None:
    """With a decisions file: what it changed, training images per class before and after."""
    if ds.decisions is None:
        return
    from core.data.dataset import load_dataset

    d = ds.decisions
    before = load_dataset(ds.spec.with_(labels=None), state.settings())
    train = SPLITS.index("train")
    counts = {name: np.bincount(x.labels[x.split == train], minlength=len(ds.classes))
              for name, x in (("before", before), ("after", ds))}
    st.markdown(f"**Decisions applied** ({plain(d.file)}): {d.relabelled} relabelled, "
                f"{d.excluded} excluded; the files themselves are unchanged.")
    st.table({"class": list(ds.classes), "train before": counts["before"].tolist(),
              "train after": counts["after"].tolist()})


def _show(ds: ImageDataset, images: np.ndarray, captions: list[str]) -> None:
    _, h, w = ds.shape
    st.image(framed(to_display(images)), caption=captions, width=display_width(h, w) + 2)


def render_samples(ds: ImageDataset) -> None:
    """Seeded samples per class or 75 at random, filtered by split and class, reshufflable."""
    cols = st.columns([2, 2, 3, 1])
    splits = ["all", *[s for s in SPLITS if len(ds.indices(s))]]
    names = list(ds.classes)
    with cols[0]:
        view = state.bound(st.radio, "sample_view", "data.view", "View", ["per class", "75 random"],
                           default="per class", horizontal=True)
    with cols[1]:
        split = state.bound(st.selectbox, "sample_split", "data.split", "Split", splits,
                            default="all", valid=lambda v: v in splits)
    with cols[2]:
        chosen = state.bound(st.multiselect, "sample_classes",
                             state.keyed("data.classes", ds.spec.to_text()), "Classes", names,
                             default=[], valid=lambda v: all(c in names for c in v),
                             placeholder="all classes")
    if cols[3].button("Reshuffle"):
        state.put("data.seed", state.get("data.seed", 0) + 1)
    seed = state.get("data.seed", 0)
    class_ids = [ds.classes.index(c) for c in chosen] or list(range(len(ds.classes)))
    pool = sampling.pool(ds.labels, class_ids, ds.indices(split) if split != "all" else None)
    if view == "75 random":
        picked = sampling.random(pool, 75, seed)
        _show(ds, ds.images[picked], [plain(ds.classes[i]) for i in ds.labels[picked]])
        return
    n = state.bound(st.slider, "sample_n", "data.per_class", "Images per class", 1, 20, default=8)
    shown = class_ids[:50]
    if len(class_ids) > len(shown):
        st.caption(f"Showing the first {len(shown)} of {len(class_ids)} classes; filter to see others.")
    sizes = sampling.class_sizes(ds.labels, pool, len(ds.classes))
    for cid, idx in sampling.per_class(ds.labels, pool, n, seed, shown).items():
        st.markdown(f"**{plain(ds.classes[cid])}** · {count(int(sizes[cid]), 'image')}")
        if len(idx):
            _show(ds, ds.images[idx], [f"#{i}" for i in idx])


def render_preprocessing(ds: ImageDataset) -> None:
    """The same few images after each preprocessing step, in order."""
    if not ds.spec.steps:
        st.info("No preprocessing steps are set. Add steps in the sidebar (or use the crack-photo "
                "recipe) to compare the images before and after.")
        return
    st.caption("The same images after each step, in order: "
               + " -> ".join(plain(step) for step in ds.spec.steps))
    picked = sampling.random(np.arange(len(ds.labels)), 8, state.get("data.seed", 0))
    raw = ds.raw_images if ds.raw_images is not None else ds.images
    for name, images in stages(raw[picked], ds.spec.steps):
        st.markdown(f"**{plain(name)}** · {images.shape[2]} x {images.shape[3]} x {images.shape[1]}")
        _, h, w = images.shape[1:]
        st.image(framed(to_display(images)), width=display_width(h, w) + 2)
