"""Worker threads for model inference, at a lower CPU priority than the event loop.

Why: on a small machine (2 cores) Whisper, llama.cpp and Piper together want
more cores than there are. The event loop, meanwhile, must wake every 20 ms
to send each call's next audio frame; if it queues behind model threads for
the CPU, the caller hears gaps. Linux lets each thread have its own nice
value, and threads inherit it from the thread that creates them, so a model
that is *loaded and run* on a niced worker keeps its own internal thread
pools (onnxruntime, CTranslate2, ggml) niced too. The loop thread keeps the
default priority and wins the CPU whenever it is runnable.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

MODEL_NICE = 10
# The LLM keeps generating while Piper speaks its first sentence; the caller is waiting
# for that sentence, not for the LLM's next one, so the LLM yields to the other models.
LLM_NICE = 15


def lower_priority(nice: int = MODEL_NICE) -> None:
    """Give the calling thread (and the threads it will create) a higher nice value."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if current < nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (OSError, AttributeError) as exc:  # not Linux, or not permitted: run as is
        log.debug("workers: cannot lower thread priority: %s", exc)


def model_executor(name: str, workers: int = 1, nice: int = MODEL_NICE) -> ThreadPoolExecutor:
    """A thread pool whose threads run at model priority (nice ``MODEL_NICE`` by default)."""
    return ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix=name, initializer=lower_priority, initargs=(nice,)
    )
