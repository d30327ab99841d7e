"""The Streamlit app `strawberry ui` serves: Playground, Harvest browser, Runs."""

import streamlit as st

from strawberry_dspy.ui import access, dirs, harvest, playground, runs

st.set_page_config(page_title="strawberry", page_icon="🍓", layout="wide")
if not st.session_state.get("token_ok"):  # beyond loopback: the token printed with the URL, once per session
    st.session_state.token_ok = access.token_ok(st.query_params.get("token"))
if not st.session_state.token_ok:
    st.error("this strawberry ui needs its access token: open the URL `strawberry ui` printed (it ends in ?token=...)")
    st.stop()
found = dirs.given()
start = "harvest" if found.harvests else "runs" if found.runs else "playground"
pages = {
    "playground": st.Page(playground.render, title="Playground", url_path="playground"),
    "harvest": st.Page(harvest.render, title="Harvest browser", url_path="harvest"),
    "runs": st.Page(runs.render, title="Runs", url_path="runs"),
}


def _open_start_page() -> None:
    st.switch_page(pages[start])


# The root URL is a hidden page that opens the page its directories call for: Streamlit serves a default page at "/"
# only, so with one of the three as default its own URL (/harvest) would answer "Page not found".
st.navigation([st.Page(_open_start_page, title="strawberry", url_path="start", default=True, visibility="hidden"),
               *pages.values()]).run()
