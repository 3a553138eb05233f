"""Anomaly detection with autoencoder and VAE runs: scores, thresholds, decisions.

Offers:
- `scores`: per-image anomaly scores (reconstruction and latent), `compute_scores` cached per run.
- `strategies`: automatic thresholds fitted on validation (`make_strategy`, `fit_all`), and
  `compare_strategies` (each one's rates on val and on test).
- `decisions`: test views (`view_rows`), the slider's range and default (`threshold_bounds`,
  `default_threshold`), `outcome`, `decisions_frame` (the CSV export), `gallery_rows`,
  `SavedThreshold` (saved with the run), `reconstructions` for the galleries.
"""
