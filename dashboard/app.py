"""App entry: `streamlit run dashboard/app.py`. Lists the pages; each page is a file in pages/."""
import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path, not the repo root that holds core/ and pages/.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.errors import UserError  # noqa: E402
from dashboard import presentation, state, url  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402
from dashboard.text import plain  # noqa: E402

# An emoji favicon (drawn as an inline SVG): a Material one is fetched from a font server.
st.set_page_config(page_title="Small-image deep learning", page_icon="🔬", layout="wide")
pages = [st.Page(p.path, title=p.title, icon=p.icon, default=p.default,
                 url_path=p.url_path) for p in PAGES]
page = st.navigation(pages)
url.start_run()
presentation.present_ui()
state.mirror_spec()
try:
    page.run()
except UserError as exc:  # the last net: pages catch what they expect; a user's error is one line
    st.error(plain(exc))
