"""Streamlit side of the dashboard: app entry, shared widgets, figure builders."""
