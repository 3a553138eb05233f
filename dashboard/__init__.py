"""Streamlit side of the dashboard: it draws; everything it shows is computed in core.

Offers:
- `app`: the entry (`streamlit run dashboard/app.py`); `navigation`: `PAGES`, the page list.
- `state`: what outlives a page (`get_spec`/`set_spec`, `selected_run`/`select_run`,
  `watched_runs`/`watch_run`) and `settings()`.
- `widgets`: pickers, the threshold panel and the train form (`*_ui` return the value chosen).
- `sections`: what each page draws (`render_*`), one module per page or part of a page.
- `figures`: pure plotly builders (data in, Figure out); `images`: arrays to crisp pictures,
  reconstruction triptychs, a strip as PNG, a labelled gallery as one PNG.
"""
