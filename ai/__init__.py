"""The channel-agnostic brain: VAD and turn-taking, STT, LLM, TTS.

It knows nothing of SIP or browsers.
"""
