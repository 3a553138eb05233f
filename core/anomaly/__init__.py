"""Anomaly detection with autoencoder and VAE runs: scores, thresholds, decisions.

Offers:
- `scores`: per-image anomaly scores (reconstruction and latent), `compute_scores` cached per run.
- `strategies`: automatic thresholds fitted on validation (`make_strategy`, `fit_all`), and
  `compare_strategies` (each one's rates on val and on test).
- `decisions`: test views (`view_rows`), the slider's range and default (`threshold_bounds`,
  `default_threshold`), `outcome`, `decisions_frame` (the CSV export), `gallery_rows`,
  `lookup_threshold` (the run's saved record, or why none applies), `reconstructions`.
- `record`: `ThresholdRecord`, the one saved threshold (value, score, normal classes, strategy and
  params, split, costs or budget, counts, date, who), `save_record`, `find_record`.
- `decide`: a strategy fitted on a run's val scores into a record, reported with 95% intervals
  (the `threshold` command, `ship`, the report); `report`: the decision report (one HTML file);
  `command`: `python -m core threshold`.
"""
