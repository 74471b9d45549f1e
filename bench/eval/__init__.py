"""Conversation quality, measured like latency: through the real phone path.

``make eval`` (``python -m bench.eval``) starts the project's Asterisk and bridge
with the eval's own agents and dialplan, places scripted sipp calls that ask the
questions of ``bench/eval/sets/*.toml`` (and, reported apart, the held-out
``bench/eval/heldout/*.toml``) in several caller voices, transcribes what each
caller heard after each question with Whisper, and scores every turn with the
pure functions of ``score.py``. Results go to ``bench/results/`` (git-ignored).
"""
