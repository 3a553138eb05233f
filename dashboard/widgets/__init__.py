"""Widgets shared by pages; a `*_ui` helper draws widgets and returns the plain value chosen.

Offers:
- `dataset_picker`: `dataset_picker_ui() -> DatasetSpec | None` (the sidebar picker, every
  option in the session model), `load_picked_dataset_or_stop()` (picker plus load).
- `dataset_loading`: `load_dataset_or_stop(spec)`, `load_with_progress` (a progress bar outside
  any cache; the loaded dataset shared by sessions).
- `run_picker`: `run_picker_ui(purpose, label) -> Run | None` (the run in use for a
  `state.Purpose`, kept in the URL; options show name, id, dataset, model, state),
  `runs_of_kind`, `run_title`, `run_label`, `render_open_in(run)`.
- `architecture`: `architecture_ui(model) -> (params, problems)`: a model's size controls.
- `threshold_panel`: `threshold_panel_ui(sweep, key, ...) -> float`: a components-v2 panel
  (histogram, slider, matrix, rates, ROC/PR point) that follows a drag in the browser and returns
  the committed threshold, kept at session_state[key].
- `train_form`: `model_picker_ui() -> str`, `train_form_ui(spec_text, ds, model) -> (TrainConfig
  | None, reasons it cannot train)`; a taken run name is replaced by `fresh_name` (name-2, ...).
"""
