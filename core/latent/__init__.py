"""A run's latent space: codes, projections, geometry, clusters and generation.

Offers:
- `features`: codes (and classifier probabilities) of every image, cached per run (`extract`).
- `projection`: PCA / UMAP / t-SNE maps cached per run, background jobs, `projection_frame` (CSV).
- `geometry`: class centres, distances, disputable images, margins, and `LatentSpace` (a run's
  codes with its training centres and each image's distance to its own).
- `clusters`: Gaussian-mixture clusters named by training labels, scored on test.
- `generation`: images decoded between two class centres, judged by a classifier.
"""
