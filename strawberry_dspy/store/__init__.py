"""`traces.sqlite`: the one module that owns the harvest store's schema, its writes and its read views."""

from strawberry_dspy.store.rows import Flag, ProblemRow, StoredTrace, StoredTurn, TraceRow
from strawberry_dspy.store.schema import DEMO_LEAKS_META, SCHEMA, SCHEMA_VERSION, STORE_FILE
from strawberry_dspy.store.store import TraceStore, stated_rows, store_path

__all__ = ["DEMO_LEAKS_META", "Flag", "SCHEMA", "SCHEMA_VERSION", "STORE_FILE", "ProblemRow", "StoredTrace", "StoredTurn",
           "TraceRow", "TraceStore", "stated_rows", "store_path"]
