"""Keep start-up offline: defaults that must be set before dspy or litellm is imported anywhere.

Import this module first (``strawberry_dspy/__init__.py`` and ``strawberry_dspy/models/__init__.py``
do). ``setdefault`` keeps whatever the user exported, so ``HF_HUB_OFFLINE=0`` re-enables the Hub.
"""

import os

# litellm downloads its model cost map from GitHub at import time unless told to use its bundled copy;
# offline, that import waits on the network before giving up.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# huggingface_hub (via datasets/transformers) would otherwise try the Hub before reading its local cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# llama.cpp's OpenMP threads spin while idle; on a shared 2-core machine that slowed every
# other thread 20-50x (measured in the bootstrap experiment). Sleep instead of spinning.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
