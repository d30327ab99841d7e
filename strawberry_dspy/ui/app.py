"""The Streamlit app `strawberry ui` serves: Playground, Harvest browser, Runs."""

import streamlit as st

from strawberry_dspy.ui import dirs, harvest, playground, runs

st.set_page_config(page_title="strawberry", page_icon="🍓", layout="wide")
found = dirs.given()
start = "harvest" if found.harvests else "runs" if found.runs else "playground"
st.navigation([
    st.Page(playground.render, title="Playground", url_path="playground", default=start == "playground"),
    st.Page(harvest.render, title="Harvest browser", url_path="harvest", default=start == "harvest"),
    st.Page(runs.render, title="Runs", url_path="runs", default=start == "runs"),
]).run()
