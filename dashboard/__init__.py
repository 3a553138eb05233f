"""Streamlit side of the dashboard: it draws; everything it shows is computed in core.

Offers:
- `app`: the entry (`streamlit run dashboard/app.py`); `navigation`: `PAGES`, the page list.
- `state`: the session model, what outlives a page: `bound` (a widget seeded from the model and
  writing back), `get`/`put`/`keyed`, the dataset spec (mirrored in the URL on every page by
  `mirror_spec`), the run in use per `Purpose` (one per page that uses runs), Train's watched
  runs, anomaly thresholds per run+score+normal classes; `settings()`.
- `url`: the address bar mirrors the model (`show`) and the opening link seeds it (`take`).
- `text`: `plain` (user names inside Markdown), `sentence` (a core message as a capitalised
  plain line), `plot_text` (inside plotly labels), `count`/`noun` ("1 image", "2 images") and
  `number` (a threshold: significant digits, float noise around zero said as such).
- `widgets`: pickers, the threshold panel and the train form (`*_ui` return the value chosen).
- `sections`: what each page draws (`render_*`), one module per page or part of a page.
- `figures`: pure plotly builders (data in, Figure out); `images`: arrays to crisp pictures,
  reconstruction triptychs, a strip as PNG, a labelled gallery of framed tiles as one PNG,
  `framed` tiles and `gallery_columns` (tiles per row that fit the main column).
"""
