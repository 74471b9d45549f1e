"""The setup's smoke check: clear messages for a broken model, a crash, a foreign build."""

from __future__ import annotations

import signal
import subprocess
import sys

from ai import smoke


def run_smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ai.smoke", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_broken_model_path_stops_with_a_message_naming_library_and_path(tmp_path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    proc = run_smoke("--only", "llm", "--llm-model", str(missing))
    assert proc.returncode == 1
    assert "smoke check failed: llama.cpp (llama-cpp-python)" in proc.stderr
    assert str(missing) in proc.stderr
    assert "no stamp written" in proc.stderr


def test_corrupt_model_file_is_a_clear_failure_not_a_crash(tmp_path) -> None:
    bad = tmp_path / "garbage.gguf"
    bad.write_bytes(b"GGUF" + bytes(1000))
    proc = run_smoke("--only", "llm", "--llm-model", str(bad))
    assert proc.returncode == 1
    assert "llama.cpp" in proc.stderr and "failed" in proc.stderr


def test_a_library_killed_by_sigill_is_named_with_the_signal_flags_and_fix() -> None:
    check = smoke.BY_NAME["llm"]
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    outcome = smoke.run_check(check, crash)
    assert not outcome.ok
    assert "llama.cpp (llama-cpp-python) died with SIGILL (Illegal instruction)" in outcome.detail
    assert "CPU flags here:" in outcome.detail
    assert "GGML_NATIVE=OFF" in outcome.detail


def test_segfault_in_another_library_names_that_library() -> None:
    check = smoke.BY_NAME["stt"]
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    outcome = smoke.run_check(check, crash)
    assert not outcome.ok
    assert "CTranslate2 (faster-whisper) died with SIGSEGV" in outcome.detail
    assert "CT2_FORCE_CPU_ISA" in outcome.detail


def test_a_build_with_more_instruction_sets_than_the_setup_asked_for_is_refused() -> None:
    # The installed build uses AVX2 (the Makefile's floor); claim the setup asked for SSE3 only.
    proc = run_smoke("--only", "llm", "--llama-features", "SSE3")
    assert proc.returncode == 1
    assert "which this setup's build does not enable" in proc.stderr
    assert "AVX2" in proc.stderr


def test_the_installed_build_passes_with_the_makefiles_features() -> None:
    proc = run_smoke("--only", "llm", "--llama-features", "SSE3 SSSE3 AVX AVX2 F16C FMA BMI2")
    assert proc.returncode == 0, proc.stderr
    assert "smoke: llama.cpp (llama-cpp-python): ok" in proc.stdout


def test_describe_signal() -> None:
    assert smoke.describe_signal(-signal.SIGILL) == "SIGILL (Illegal instruction)"
    assert smoke.describe_signal(-200) == "signal 200"


def test_cpu_flags_keeps_only_the_instruction_sets_that_matter(tmp_path) -> None:
    info = tmp_path / "cpuinfo"
    flags = "fpu sse2 avx avx2 fma avx512f amx_tile amx_int8 lm"
    info.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert smoke.cpu_flags(info) == ["avx", "avx2", "fma", "avx512f", "amx_tile", "amx_int8"]
