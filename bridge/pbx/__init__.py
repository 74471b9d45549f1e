"""The Asterisk that voicebot runs: finding or provisioning it, configuring and supervising it."""
