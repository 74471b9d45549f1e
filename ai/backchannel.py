"""What counts as a backchannel: an acknowledgement ("mm-hm", "yeah", "okay") that must
not stop the bot, as opposed to the caller taking the floor.

Used on the transcript of a short interjection while the bot speaks (the turn-taker
pauses the bot at once and asks; see ai/turns.py). A pure function of the text.
"""

from __future__ import annotations

import re

BACKCHANNELS = frozenset(
    "mm mhm mm-hm mm hmm uh-huh uh huh yeah yes yep ok okay right sure i see got it "
    "ah oh hmm".split()
)


def is_backchannel(text: str) -> bool:
    """ "mm-hm", "yeah", "okay", "right": acknowledgements that must not stop the bot."""
    words = re.sub(r"[^a-z\- ]+", " ", text.lower()).split()
    return 0 < len(words) <= 3 and all(w.strip("-") in BACKCHANNELS for w in words)
