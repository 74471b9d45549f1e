"""Per-call conversation memory: roles, interruptions and the context bounds."""

import itertools

import pytest

from ai.memory import INTERRUPTED_MARK, Conversation

SYSTEM = "You are a helpful phone agent."


def roles(conv: Conversation) -> list[str]:
    return [m["role"] for m in conv.messages()]


def contents(conv: Conversation) -> list[str]:
    return [m["content"] for m in conv.messages()]


def test_empty_conversation_is_just_the_system_prompt() -> None:
    conv = Conversation(SYSTEM)
    assert conv.messages() == [{"role": "system", "content": SYSTEM}]
    assert conv.turns == 0


def test_exchange_in_order() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("Hi, are you open today?")
    conv.add_assistant("Yes, until six.")
    conv.add_user("Thanks.")
    assert conv.messages() == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Hi, are you open today?"},
        {"role": "assistant", "content": "Yes, until six."},
        {"role": "user", "content": "Thanks."},
    ]
    assert conv.turns == 2


def test_text_is_stripped_and_empty_text_ignored() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("   ")
    conv.add_user("  hello  ")
    conv.add_assistant("  ")
    conv.add_assistant(" hi there ")
    assert contents(conv)[1:] == ["hello", "hi there"]


def test_interrupted_reply_keeps_what_was_said_and_is_marked() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("What are your opening hours?")
    conv.add_assistant("We are open from nine", interrupted=True)
    conv.add_user("Sorry, on Sunday?")
    msgs = conv.messages()
    assert msgs[2] == {"role": "assistant", "content": "We are open from nine" + INTERRUPTED_MARK}
    assert msgs[2]["content"].endswith(" —")
    assert msgs[3] == {"role": "user", "content": "Sorry, on Sunday?"}


def test_reply_cut_off_before_a_word_is_not_stored() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("Hello?")
    conv.add_assistant("", interrupted=True)
    conv.add_user("Is anyone there?")
    # Two user messages in a row are joined: the roles keep alternating.
    assert roles(conv) == ["system", "user"]
    assert contents(conv)[1] == "Hello? Is anyone there?"
    assert conv.turns == 1


def test_second_reply_part_continues_an_interrupted_one() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("Hours?")
    conv.add_assistant("Nine to", interrupted=True)
    conv.add_assistant("five.")
    assert contents(conv)[2] == "Nine to five."


def test_greeting_before_the_caller_speaks_is_not_first() -> None:
    conv = Conversation(SYSTEM)
    conv.add_assistant("Hello, how can I help?")
    assert roles(conv) == ["system"]
    conv.add_user("I need a taxi.")
    assert roles(conv) == ["system", "user"]


def test_max_turns_keeps_the_most_recent() -> None:
    conv = Conversation(SYSTEM, max_turns=3)
    for n in range(10):
        conv.add_user(f"question {n}")
        conv.add_assistant(f"answer {n}")
    conv.add_user("last question")
    assert conv.turns == 3
    assert contents(conv)[1:] == [
        "question 8",
        "answer 8",
        "question 9",
        "answer 9",
        "last question",
    ]


def test_max_chars_drops_whole_old_turns_and_never_starts_with_assistant() -> None:
    conv = Conversation("S" * 100, max_turns=8, max_chars=400)
    conv.add_user("u" * 50)
    conv.add_assistant("a" * 150)  # turn 1: 200 chars
    conv.add_user("v" * 50)
    conv.add_assistant("b" * 100)  # turn 2: 150 chars
    conv.add_user("w" * 100)  # turn 3: 100 chars
    msgs = conv.messages()
    # 100 (system) + 100 + 150 = 350 fits; adding turn 1 (200) would not.
    assert [m["content"][0] for m in msgs] == ["S", "v", "b", "w"]
    assert msgs[1]["role"] == "user"
    assert sum(len(m["content"]) for m in msgs) <= 400


def test_latest_user_message_is_kept_even_when_over_budget() -> None:
    conv = Conversation(SYSTEM, max_chars=50)
    conv.add_user("short")
    conv.add_assistant("reply")
    conv.add_user("x" * 500)
    msgs = conv.messages()
    assert roles(conv) == ["system", "user"]
    assert msgs[-1]["content"] == "x" * 500


@pytest.mark.parametrize("max_chars", [0, 100, 300, 1000, 10_000])
def test_bounds_hold_for_any_history(max_chars: int) -> None:
    conv = Conversation(SYSTEM, max_turns=5, max_chars=max_chars)
    for n in range(20):
        conv.add_user(f"caller line number {n} " * (n % 4 + 1))
        conv.add_assistant(f"bot reply {n} " * (n % 3 + 1), interrupted=n % 5 == 0)
        msgs = conv.messages()
        assert msgs[0]["role"] == "system"
        assert msgs[1]["role"] == "user"
        assert len(msgs) <= 1 + 2 * 5
        for a, b in itertools.pairwise(msgs[1:]):
            assert a["role"] != b["role"]
        if len(msgs) > 3:  # more than the latest turn: those must fit
            assert sum(len(m["content"]) for m in msgs) <= max_chars
        assert msgs[-1]["content"].startswith("bot reply")
        assert msgs[-2]["content"].startswith(f"caller line number {n}")


def test_clear() -> None:
    conv = Conversation(SYSTEM)
    conv.add_user("hi")
    conv.clear()
    assert conv.turns == 0
    assert roles(conv) == ["system"]


def test_max_turns_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Conversation(SYSTEM, max_turns=0)


def test_forgets_in_blocks_so_the_prompt_prefix_stays_stable() -> None:
    conv = Conversation("sys", max_turns=4)
    prefixes = []
    for i in range(10):
        conv.add_user(f"question {i}")
        conv.add_assistant(f"answer {i}")
        prefixes.append(conv.messages()[1]["content"])
        assert 1 <= conv.turns <= 4
    # The oldest remembered turn changes only when a block is forgotten, not every turn.
    changes = sum(1 for a, b in itertools.pairwise(prefixes) if a != b)
    assert changes <= 4
    assert conv.messages()[-1]["content"] == "answer 9"
