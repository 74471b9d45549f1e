"""What the deployment keeps: the messages callers leave (and, next, every call's record),
behind small store interfaces; SQLite under ``[voicebot] data_dir`` on one machine."""
