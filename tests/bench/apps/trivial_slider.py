"""The floor of a server round trip: one slider and one line of text (tests/bench/page_timing)."""
import streamlit as st

value = st.slider("value", 0, 100, 50, key="value")
st.markdown(f"value {value}")
