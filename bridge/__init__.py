"""Telephony and browser channels: AudioSocket, codecs, resampling, pacing, call control."""
