"""The dashboard's entry script: ``streamlit run`` this file (``salescast dashboard`` does)."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="salescast", page_icon=":material/monitoring:", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "sales.py", title="Sales", icon=":material/shopping_basket:", default=True),
        st.Page(PAGES / "forecasts.py", title="Forecasts", icon=":material/trending_up:"),
        st.Page(PAGES / "models.py", title="Models", icon=":material/emoji_events:"),
        st.Page(PAGES / "drift.py", title="Drift", icon=":material/thermostat:"),
    ]
)
navigation.run()  # each page draws the sidebar (context.sidebar): AppTest reruns keep only what a page draws
