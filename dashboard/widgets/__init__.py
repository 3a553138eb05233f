"""Widgets shared by pages; a `*_ui` helper draws widgets and returns the plain value chosen.

Offers:
- `dataset_picker`: `dataset_picker_ui() -> DatasetSpec | None` (the sidebar picker),
  `load_dataset_or_stop(spec)`, `load_picked_dataset_or_stop()` (picker plus load).
- `run_picker`: `run_picker_ui(kinds, label) -> Run | None` (kept in the URL), `runs_of_kind`,
  `render_open_in(run)` (buttons that open a run on the pages that can show it).
- `threshold_panel`: `threshold_panel_ui(sweep, key, ...) -> float`: a components-v2 panel
  (histogram, slider, matrix, rates, ROC/PR point) that follows a drag in the browser and returns
  the committed threshold, kept at session_state[key].
- `train_form`: `model_picker_ui() -> str`, `train_form_ui(spec_text, ds, model) -> TrainConfig | None`.
"""
