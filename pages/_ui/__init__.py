"""Shared Streamlit UI for every page (the only place besides the pages that imports streamlit)."""
