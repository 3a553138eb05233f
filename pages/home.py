"""Home: what each page is for, with links. Short enough to project in a class."""
import streamlit as st

from dashboard.navigation import PAGES

st.title("Deep learning on small images")
st.markdown(
    "Explore image datasets from 8x8 digits to 227x227 photos: look at the data and its class "
    "balance first. The default dataset, scikit-learn's handwritten digits, is built in and needs "
    "no download; pick another in the sidebar of the Data page, and it stays chosen on every "
    "page (the address bar keeps it too, so a link reopens it)."
)
for page in PAGES:
    if page.default:
        continue
    st.page_link(page.path, label=f"**{page.title}**", icon=page.icon)
    st.caption(page.blurb)
