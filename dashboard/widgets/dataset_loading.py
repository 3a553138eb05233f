"""Load a dataset for a page, with a progress bar, shared between sessions.

The load runs in the script (outside any st.cache_* function) so its progress bar is an
ordinary element; only the finished dataset goes into a process-wide store. A cached function
that drew the bar could not be replayed when a second tab or a reload hit the cache
(CacheReplayClosureError).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from core.data.dataset import ImageDataset, load_dataset
from core.data.sources import all_sources
from core.data.sources.base import capability
from core.data.spec import DatasetSpec
from core.errors import UserError
from core.settings import Settings
from dashboard import state
from dashboard.text import plain

KEPT = 4  # datasets held in memory at once, across sessions


class LoadedDatasets:
    """The last few datasets loaded in this server process (arrays shared read-only), with one
    lock per spec so two tabs opening the same folder load it once."""

    def __init__(self, size: int = KEPT):
        self.size = size
        self._items: OrderedDict[tuple, ImageDataset] = OrderedDict()
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple) -> ImageDataset | None:
        with self._guard:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, ds: ImageDataset) -> None:
        with self._guard:
            self._items[key] = ds
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def lock(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


@st.cache_resource(show_spinner=False)
def loaded_datasets() -> LoadedDatasets:
    """The one store of this server process (a resource: created once, draws nothing)."""
    return LoadedDatasets()


def load_with_progress(spec: DatasetSpec, cfg: Settings, download: bool = False) -> ImageDataset:
    """The dataset from the shared store, or loaded now under a progress bar with real fractions."""
    store, key = loaded_datasets(), (spec.to_text(), cfg)
    ds = store.get(key)
    if ds is not None:
        return ds
    slot = st.empty()
    with store.lock(key):
        ds = store.get(key)  # another tab may have loaded it while this one waited
        if ds is None:
            slot.progress(0.0, text=("Downloading and loading " if download else "Loading ")
                          + plain(spec.to_text()))

            def report(fraction: float, text: str) -> None:
                slot.progress(min(max(float(fraction), 0.0), 1.0), text=plain(text))

            try:
                ds = load_dataset(spec, cfg, download=download, keep_raw=True, progress=report)
            finally:
                slot.empty()
            store.put(key, ds)
    return ds


def load_dataset_or_stop(spec: DatasetSpec) -> ImageDataset:
    """Load, or show the reason (and a download button where the source can fetch) and stop."""
    cfg = state.settings()
    try:
        return load_with_progress(spec, cfg)
    except UserError as exc:
        st.error(plain(exc))
        source = {s.name: s for s in all_sources()}.get(spec.source)
        if source is not None and capability(source, "downloadable"):
            if st.button(f"Download {source.title} into {plain(spec.root)}"):
                try:
                    load_with_progress(spec, cfg, download=True)
                    st.rerun()
                except UserError as download_exc:
                    st.error(plain(download_exc))
        st.stop()

