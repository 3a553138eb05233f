"""A run's latent space: codes, projections, geometry, clusters and generation.

Offers:
- `features`: codes (and classifier probabilities) of every image, cached per run (`extract`).
- `methods`: PCA, UMAP and t-SNE (openTSNE) on codes, each reporting a fraction done.
- `projection`: those maps cached per run; background jobs with progress and cancel;
  `projection_frame` (CSV).
- `selection`: what a box on the map selected, per class, and a class-stratified sample of it.
- `geometry`: class centres, distances, disputable images, margins, and `LatentSpace` (a run's
  codes with its training centres and each image's distance to its own).
- `clusters`: Gaussian-mixture clusters named by training labels, scored on test.
- `generation`: images decoded between two class centres, judged by a classifier.
"""
