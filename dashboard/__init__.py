"""Streamlit side of the dashboard: it draws; everything it shows is computed in core.

Offers:
- `app`: the entry (`streamlit run dashboard/app.py`); `navigation`: `PAGES`, the page list.
- `state`: the session model, what outlives a page: `bound` (a widget seeded from the model and
  writing back), `get`/`put`/`keyed`, the dataset spec, the current run per purpose, Train's
  watched runs, anomaly thresholds per run+score+normal classes; `settings()`.
- `url`: the address bar mirrors the model (`show`) and the opening link seeds it (`take`).
- `text`: `plain` (user names inside Markdown), `sentence` (a core message as a capitalised
  plain line) and `plot_text` (inside plotly labels).
- `widgets`: pickers, the threshold panel and the train form (`*_ui` return the value chosen).
- `sections`: what each page draws (`render_*`), one module per page or part of a page.
- `figures`: pure plotly builders (data in, Figure out); `images`: arrays to crisp pictures,
  reconstruction triptychs, a strip as PNG, a labelled gallery as one PNG.
"""
