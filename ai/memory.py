"""What the bot remembers of one call, trimmed to what a small model's context can hold.

A turn is one exchange: what the caller said, then what the bot said back (the
reply may be missing: the caller spoke again before it began). Only the last
``max_turns`` turns are kept at all; ``messages()`` then keeps the most recent
of those that fit ``max_chars`` as well, whole turns only, so the model never
sees a reply without the question it answered.
"""

from __future__ import annotations

from dataclasses import dataclass

INTERRUPTED_MARK = " —"  # ends a reply the caller cut off: the model sees it was not finished


@dataclass
class Turn:
    """One exchange. ``assistant`` is what was actually spoken (may be empty)."""

    user: str
    assistant: str = ""
    interrupted: bool = False

    def messages(self) -> list[dict[str, str]]:
        out = [{"role": "user", "content": self.user}]
        if self.assistant:
            out.append({"role": "assistant", "content": self.assistant})
        return out

    @property
    def chars(self) -> int:
        return len(self.user) + len(self.assistant)


class Conversation:
    """Per-call memory: a system prompt and the recent turns, in OpenAI chat format."""

    def __init__(self, system_prompt: str, max_turns: int = 8, max_chars: int = 4000) -> None:
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.system_prompt = system_prompt
        self.max_turns = max_turns
        self.max_chars = max_chars
        self._turns: list[Turn] = []

    @property
    def turns(self) -> int:
        """Turns held (at most ``max_turns``)."""
        return len(self._turns)

    def add_user(self, text: str) -> None:
        """The caller said ``text``. Said again before any reply, it joins the same turn.

        Joining keeps the roles alternating, which many chat templates require.
        """
        text = text.strip()
        if not text:
            return
        last = self._turns[-1] if self._turns else None
        if last is not None and not last.assistant:
            last.user = f"{last.user} {text}"
        else:
            self._turns.append(Turn(user=text))
            if len(self._turns) > self.max_turns:
                # Forget in blocks, not one turn per turn: llama.cpp reuses the evaluated
                # prompt only up to the first changed token, so a sliding window would make
                # it re-read the whole history on every turn.
                keep = max(1, (self.max_turns + 1) // 2)
                del self._turns[:-keep]

    def add_assistant(self, text: str, interrupted: bool = False) -> None:
        """The bot said ``text``: only what was spoken, marked when the caller cut it off.

        A reply before the caller has said anything (the greeting) has no turn
        to belong to and is not kept: the model must never see an assistant
        message first. Nothing spoken, nothing kept.
        """
        text = text.strip()
        if not text or not self._turns:
            return
        last = self._turns[-1]
        if last.interrupted:  # a reply after a cut-off one: continue from what was heard
            last.assistant = last.assistant.removesuffix(INTERRUPTED_MARK)
        last.assistant = f"{last.assistant} {text}".strip()
        last.interrupted = interrupted
        if interrupted:
            last.assistant += INTERRUPTED_MARK

    def last_user(self) -> str:
        """What the caller said in the latest turn kept ("" before any): what a follow-up
        such as "and on Sunday?" refers to."""
        return self._turns[-1].user if self._turns else ""

    def messages(self) -> list[dict[str, str]]:
        """System prompt, then the latest turns that fit; the latest turn always."""
        budget = self.max_chars - len(self.system_prompt)
        kept: list[Turn] = []
        for turn in reversed(self._turns):
            if kept and turn.chars > budget:
                break
            kept.append(turn)
            budget -= turn.chars
        out = [{"role": "system", "content": self.system_prompt}]
        for turn in reversed(kept):
            out.extend(turn.messages())
        return out

    def clear(self) -> None:
        self._turns.clear()
