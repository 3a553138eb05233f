"""Applying a trained run, or an exported bundle of one, to new images.

Offers:
- `recipe`: `Recipe`, the run's preprocessing (mode, size, steps) and the model's input shape.
- `inputs`: `open_input` (a folder, an image, a .zip or a dataset spec) as `NewImages`, read in
  batches; files that cannot be used are listed with their reason.
- `detector`: `Detector` (a model with its recipe, scores, saved thresholds and reference scores)
  and `RunDetector`; `bundle`: `BundleDetector`, `load_bundle` (checked, never unpickled).
- `thresholds`: `resolve_threshold` ("saved", a value or a strategy) as a `ThresholdChoice`.
- `apply`: `predict_images`, streamed; `result`: `PredictResult` (decisions, CSV, summary).
- `export`: `export_bundle`, a self-contained folder (TorchScript model, manifest, checksums).
"""
