"""`strawberry ui`: a Streamlit app to watch a program reason, browse harvests and compare runs."""
