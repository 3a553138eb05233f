"""What each page draws, one module per page (or per part of a long page); pages call these.

A `render_*` (or `show_*`) function draws a section; a `*_or_stop` helper loads or checks
something and stops the page with a message when it cannot. Everything shown is computed in core.

Offers:
- `data`: `render_load_warnings`, `render_summary`, `render_balance`, `render_decisions`,
  `render_samples`, `render_preprocessing` (the Data page).
- `train`: `render_live_runs` (runs started here plus every active one), `render_live_run`,
  `render_state_message`, `progress_text`, `safe_status`.
- `runs`: `render_table`, `render_compare` (curves overlaid), `render_actions` (per run),
  `problem`/`safe_row` (a broken run folder listed with its reason).
- `evaluate`: `render_headline`, `render_per_class`, `positive_class_ui`,
  `render_binary_threshold`, `render_roc`, `render_mistakes`, `render_comparison`,
  `render_downloads`.
- `evaluate_confusion`: `render_confusion` (click a cell to see its images), `selected_cells`.
- `evaluate_gallery`: `show_images`, `GALLERY`.
- `anomaly_inputs`: `score_ui`, `view_ui`, `normal_classes_or_stop`, `compute_scores_or_stop`,
  `analyse_or_stop` -> `Analysis` (rows, sweep, fitted strategies, slider bounds).
- `anomaly_threshold`: `seed_threshold`, `render_auto_thresholds`, `render_threshold` (the threshold
  panel; gallery, save and CSV follow a committed value).
- `anomaly_gallery`: `render_gallery` (most anomalous, closest, wrong; triptychs, one PNG each),
  `render_cell` (the images of the matrix cell clicked last).
- `latent_space`: `Space`, `load_space_or_stop`, `show_gallery` (labelled images as one picture),
  `show_grid` (a titled gallery of up to 60), `lines` (an st.image caption).
- `latent_projection`: `Projection`, `load_projection_or_stop` (PCA now, UMAP/t-SNE in the background).
- `latent_map`: `render_map` (selectable scatter, centre pictures, selected images),
  `render_download`, `selected_rows`, `colour_values`.
- `latent_decide`: `render_bulk_decision` (exclude or relabel the map's selection in one batch).
- `latent_clusters`: `render_clusters`, `clusters_on`, `cluster_k`, `clusters_of`, `cluster_names_of`.
- `latent_disputable`: `render_disputable` (centre distances, margins, mistakes).
- `audit`: `options_ui`, `render_job` (start, progress, cancel; the report when done),
  `render_summary` (leak count on top), `render_label_issues`, `render_duplicates`, `render_outliers`.
- `audit_decide`: `decisions_name_ui`, `render_decide` (per image and in bulk, into the decisions
  file), `save_decisions` (the one writer), `render_retrain` (a sibling run on the fixed spec and
  the comparison).
- `latent_generate`: `render_generation` (decoded between two centres, judged by a classifier).
"""
