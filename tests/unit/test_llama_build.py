"""The installed llama.cpp holds no code path that needs what a VM may not grant (AMX, AVX-512).

A CPU can advertise AMX while its virtual machine does not let a process use it;
a library with AMX code then dies with SIGILL on its first token. The Makefile
builds llama.cpp with an explicit AVX2 floor; this reads the machine code of
the installed libraries to show no AMX tile or AVX-512 (zmm) instruction is in them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FORBIDDEN = re.compile(r"\b(ldtilecfg|sttilecfg|tileloadd|tilestored|tilezero|tdp\w+)\b|%zmm|%tmm")


def llama_libs() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.submodule_search_locations, "llama_cpp is not installed"
    lib = Path(next(iter(spec.submodule_search_locations))) / "lib"
    return sorted(p for p in lib.glob("libggml*.so") if not p.is_symlink())


def test_no_amx_or_avx512_instructions_in_llama_cpp() -> None:
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.fail("objdump (Debian binutils) is needed to read the library's instructions")
    libs = llama_libs()
    assert any(p.name == "libggml-cpu.so" for p in libs), f"no libggml-cpu.so among {libs}"
    for lib in libs:
        asm = subprocess.run(
            [objdump, "-d", "--no-show-raw-insn", str(lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert len(asm) > 10_000, f"objdump read nothing from {lib}"
        found = sorted({m.group(0) for m in FORBIDDEN.finditer(asm)})
        assert not found, f"{lib.name} contains {found[:8]}: not the portable build"
