"""What each page draws, one module per page (or per part of a long page); pages call these.

A `render_*` (or `show_*`) function draws a section; a `*_or_stop` helper loads or checks
something and stops the page with a message when it cannot. Everything shown is computed in core.

Offers:
- `data`: `render_skipped`, `render_summary`, `render_balance`, `render_samples`,
  `render_preprocessing` (the Data page).
- `train`: `render_live_runs` (runs started here plus every active one), `render_live_run`,
  `render_state_message`, `progress_text`.
- `runs`: `render_table`, `render_compare` (curves overlaid), `render_actions` (per run).
- `evaluate`: `render_headline`, `render_per_class`, `render_confusion`, `render_binary_threshold`,
  `render_roc`, `render_mistakes`, `render_comparison`, `render_downloads`, `show_images`.
"""
