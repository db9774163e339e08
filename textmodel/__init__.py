"""The text model that moderation and emotion reading share: the normaliser that undoes evasions
(normalize.py), the offline MiniLM encoder (embedder.py, run in ONNX Runtime by onnx_runtime.py),
the tuned heads that go on from its token states (tuned.py) and their training (training.py), and
the labelled chat messages both trainings read (data/chat_messages.jsonl).

Each message is normalised and encoded once; moderation's and emotion's heads each run their own
copy of MiniLM's top layers from there. It imports nothing of reactclip's other packages, so the
engine and moderation can both build on it without importing each other.
"""
