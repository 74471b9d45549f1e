"""How fast the installed llama.cpp runs the LLM: first-token time and tokens per second.

``make bench-llm`` (or ``python -m bench.llm_speed [--model GGUF] [--runs N]``). Used to
price the portable build (AVX2 floor) against a native one on the same machine: install
each wheel in turn and compare the medians of one sitting. Prints the CPU model and the
instruction sets llama.cpp reports, since the figures mean nothing without them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

QUESTIONS = (
    "What time do you open on Saturday?",
    "Can I book an appointment for next week?",
    "Where can I park?",
    "Do you take credit cards?",
)
SYSTEM = "You are a helpful phone assistant. Answer in one short sentence."


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main() -> None:
    import llama_cpp

    from ai.models import llm_model

    parser = argparse.ArgumentParser(prog="python -m bench.llm_speed", description=__doc__)
    parser.add_argument("--model", default="", help="GGUF ('' = embedded SmolLM2)")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()

    llm = llama_cpp.Llama(
        model_path=str(llm_model(args.model)), n_ctx=1024, n_threads=args.threads, verbose=False
    )
    first_ms: list[float] = []
    rates: list[float] = []
    for i in range(args.runs + 1):
        question = QUESTIONS[i % len(QUESTIONS)]
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        started = time.perf_counter()
        first = None
        pieces = 0
        for chunk in llm.create_chat_completion(
            messages=messages, max_tokens=args.max_tokens, temperature=0.0, stream=True
        ):
            if chunk["choices"][0]["delta"].get("content"):
                pieces += 1
                if first is None:
                    first = time.perf_counter()
        end = time.perf_counter()
        if i == 0 or first is None:
            continue  # the first run warms the caches
        first_ms.append((first - started) * 1000)
        if pieces > 1 and end > first:
            rates.append((pieces - 1) / (end - first))
    info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    result = {
        "cpu": cpu_model(),
        "llama_cpp_system_info": info,
        "runs": len(first_ms),
        "first_token_ms_p50": round(statistics.median(first_ms), 1),
        "first_token_ms_min": round(min(first_ms), 1),
        "tokens_per_s_p50": round(statistics.median(rates), 1) if rates else None,
        "tokens_per_s_max": round(max(rates), 1) if rates else None,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
