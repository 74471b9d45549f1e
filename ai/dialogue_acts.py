"""What a caller's words *do*, apart from asking for a fact: greet, thank, say goodbye, ask
whether they talk to a machine, or ask a question at all.

Phone conversations everywhere share these few moves, whatever the business, so
they are recognised from generic English expressions; anything else is left to
the facts (ai/retrieval.py). An act counts only when the words are mostly that act
("thanks, bye" is a goodbye; "thanks, and what about Sunday?" is a question).
Pure functions of the text.
"""

from __future__ import annotations

import enum
import re


class Act(enum.Enum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    IDENTITY = "identity"  # "are you a robot?", "am I talking to a person?"
    HOW_ARE_YOU = "how_are_you"
    HEARING = "hearing"  # "can you hear me?", "are you there?"


_PATTERNS: dict[Act, re.Pattern[str]] = {
    Act.GOODBYE: re.compile(
        r"\b(?:good ?bye|bye(?: bye)?|see you|see ya|talk (?:to you )?later|take care|"
        r"have a (?:good|nice|great) (?:day|one|evening|weekend)|that'?s (?:all|it|everything)|"
        r"nothing else|that will be all|i'?m (?:all )?(?:done|good)(?: thanks?)?$|"
        r"no,? (?:thanks?|thank you)(?: that'?s all)?$)\b",
        re.IGNORECASE,
    ),
    Act.THANKS: re.compile(
        r"\b(?:thanks?|thank you|thank u|cheers|appreciate (?:it|that)|great,? thanks?)\b",
        re.IGNORECASE,
    ),
    Act.IDENTITY: re.compile(
        r"\b(?:are you (?:a |an )?(?:real|human|person|robot|bot|machine|computer|ai|"
        r"artificial|recording|automated)|am i (?:talking|speaking) (?:to|with) (?:a |an )?"
        r"(?:real|human|person|robot|bot|machine|computer)|is this (?:a |an )?(?:real person|"
        r"human|robot|bot|machine|recording|computer)|who am i (?:talking|speaking) to|"
        r"who (?:is this|are you))\b",
        re.IGNORECASE,
    ),
    Act.HOW_ARE_YOU: re.compile(
        r"\bhow(?:'?s| is| are) (?:you|it going|your day|things)\b|\bhow do you do\b",
        re.IGNORECASE,
    ),
    Act.HEARING: re.compile(
        r"\b(?:can you hear me|do you hear me|are you (?:still )?there|is anyone there|"
        r"is anybody there|hello\?* are you there)\b",
        re.IGNORECASE,
    ),
    Act.GREETING: re.compile(
        r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|yes,? hello|hello\?)\b",
        re.IGNORECASE,
    ),
}
# Words that belong to the acts above or carry nothing: what may surround an act.
_ACT_WORDS = frozenset(
    """
    a again ah all alright and bye cheers day done evening everything for go good goodbye
    great have hello hey hi hiya i i'm im is it it's just lot morning much nice no nothing
    now oh ok okay one perfect see so take talk thank thanks that that's thats then there
    this to u um uh very well yeah yes you afternoon care later weekend all's bye-bye ya
    really appreciate are real person human robot bot machine computer ai artificial
    recording automated am talking speaking with an who how doing today your things going
    fine doing what's up awesome excellent wonderful will be else can hear me there
    still anyone anybody sorry helpful lovely brilliant cool
    """.split()
)
_QUESTION_START = re.compile(
    r"^(?:\W*(?:so|um+|uh+|er+|hi|hello|hey|yes|yeah|okay|ok|and|but|oh|well|also|"
    r"sorry|excuse me)\b[\s,]*)*"
    r"(?:what|what's|when|where|who|whom|which|why|how|do|does|did|is|are|was|were|can|"
    r"could|will|would|should|shall|may|might|have|has|any|anything|and)\b",
    re.IGNORECASE,
)
_INDIRECT = re.compile(
    r"\b(?:wonder(?:ing)?|want(?:ed)? to know|like to know|need to know|tell me|"
    r"let me know|curious|find out|looking for|trying to find|check (?:if|whether))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z']+")
# A short turn that ends in a goodbye is one, whatever the recogniser made of the words
# before it ("brilliant, sunk, bye"); "thanks by" is how Whisper often spells "thanks, bye".
_ENDS_IN_GOODBYE = re.compile(
    r"(?:\b(?:good ?bye|bye(?:[- ]bye)?)|\b(?:thanks?|thank you|cheers)\W+by)\W*$", re.IGNORECASE
)
_SHORT_CLOSING_WORDS = 5


def acts(text: str) -> set[Act]:
    """The acts ``text`` performs, if its words are mostly those acts; else none."""
    words = _WORD.findall(text.lower())
    if not words:
        return set()
    if (
        len(words) <= _SHORT_CLOSING_WORDS
        and _ENDS_IN_GOODBYE.search(text.strip())
        and not is_question(text)
    ):
        return {Act.GOODBYE}
    found = {act for act, pattern in _PATTERNS.items() if pattern.search(text.strip())}
    if not found:
        return set()
    others = [w for w in words if w not in _ACT_WORDS]
    if len(others) > len(words) // 4 or (others and is_question(text)):
        return set()
    return found


def is_question(text: str) -> bool:
    """A question, direct ("what time...?", "do you...") or indirect ("I was wondering..."),
    in any clause: "I chipped a tooth, is there any chance of being seen today"."""
    text = text.strip()
    if text.endswith("?") or _INDIRECT.search(text):
        return True
    return any(_QUESTION_START.match(c) for c in re.split(r"[,.;:!]\s*", text) if c)
