"""The machine a benchmark records: the CPU's name, family and model and vector units from /proc/cpuinfo, so that
figures from the CPUs these machines have shown (all named "AMD EPYC" or "Intel Xeon" in their VMs) tell apart; and
which half precisions those units compute in hardware."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch
from hypothesis import given
from hypothesis import strategies as st

from hifigan.runtime.machine import ISA_FLAGS, cpu_computes, cpu_identity, cpu_text, machine_info, machine_text

ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx avx2 avx512f avx512dq avx512ifma avx512_bf16 avx512vbmi vaes

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: another CPU
flags\t\t: fpu sse2 avx amx_tile
"""
XEON_AMX = ("processor : 0\ncpu family : 6\nmodel : 143\nmodel name : Intel(R) Xeon(R) Processor\n"
            "flags : avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n")
SPR = "processor : 0\nmodel name : Intel Xeon\nflags : avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile\n"
ZEN3 = "processor : 0\ncpu family : 25\nmodel : 1\nmodel name : AMD EPYC\nflags : fma avx2 sha_ni\n"
OTHER_FLAGS = ["fpu", "sse4_2", "avx", "avx512fp16", "avx512vl", "avx512_vnni", "amx_int8", "amx_bf16", "fma"]


def test_the_first_cpus_name_family_model_and_vector_units():
    assert cpu_identity(ZEN4) == {"cpu": "AMD EPYC", "cpu_id": "family 25 model 17",
                                  "isa": ["AVX2", "AVX-512", "AVX512-BF16"]}
    assert cpu_identity(XEON_AMX) == {"cpu": "Intel(R) Xeon(R) Processor", "cpu_id": "family 6 model 143",
                                      "isa": ["AVX2", "AVX-512", "AVX512-BF16", "AMX"]}
    assert cpu_identity(ZEN3)["isa"] == ["AVX2"]


@given(st.sets(st.sampled_from(list(ISA_FLAGS))), st.lists(st.sampled_from(OTHER_FLAGS)), st.randoms())
def test_isa_is_exactly_the_listed_flags_present_in_their_order(present, others, random):
    """Whole flags, never substrings (avx512fp16 is not avx512f), in ISA_FLAGS's order whatever cpuinfo's."""
    flags = [*present, *others]
    random.shuffle(flags)
    identity = cpu_identity(f"model name : X\nflags : {' '.join(flags)}\n")
    assert identity["isa"] == [name for flag, name in ISA_FLAGS.items() if flag in present]


def test_without_cpuinfo_the_platform_names_the_cpu():
    identity = cpu_identity("")
    assert identity["cpu_id"] is None and identity["isa"] == [] and identity["cpu"]


def test_the_text_of_new_and_old_records():
    record = {**cpu_identity(ZEN4), "cores": 2, "threads": 2, "torch": "2.13.0+cpu"}
    assert machine_text(record) == ("AMD EPYC (family 25 model 17: AVX2, AVX-512, AVX512-BF16), 2 cores, 2 threads, "
                                    "torch 2.13.0+cpu")
    old = {"cpu": "AMD EPYC", "cores": 2, "threads": 2, "torch": "2.13.0+cpu"}  # results written before
    assert machine_text(old) == "AMD EPYC, 2 cores, 2 threads, torch 2.13.0+cpu"
    assert cpu_text({"cpu": "M1", "cpu_id": None, "isa": []}) == "M1"
    gpu = {**record, "gpu": "NVIDIA H200", "cuda": "13.0"}
    assert machine_text(gpu).startswith("NVIDIA H200 (CUDA 13.0), AMD EPYC (family 25")
    one = {"cpu": "AMD EPYC", "cores": 1, "threads": 1, "torch": "2.13.0+cpu"}  # a one-core VM, OMP_NUM_THREADS=1
    assert machine_text(one) == "AMD EPYC, 1 core, 1 thread, torch 2.13.0+cpu"


def test_this_machine_is_identified():
    info = machine_info()
    assert set(info["isa"]) <= set(ISA_FLAGS.values())
    if sys.platform == "linux" and re.search(r"^cpu family", Path("/proc/cpuinfo").read_text(), re.M):
        assert re.fullmatch(r"family \d+ model \d+", info["cpu_id"])


def test_which_vector_units_compute_each_half_precision():
    """bf16 in hardware: AVX512-BF16 or AMX; fp16: AVX512-FP16; fp32 everywhere."""
    zen3, zen4, spr = (cpu_identity(text)["isa"] for text in (ZEN3, ZEN4, SPR))
    assert [cpu_computes(p, zen3) for p in ("fp32", "bf16", "fp16")] == [True, False, False]
    assert [cpu_computes(p, zen4) for p in ("fp32", "bf16", "fp16")] == [True, True, False]
    assert [cpu_computes(p, spr) for p in ("fp32", "bf16", "fp16")] == [True, True, True]
    assert cpu_computes("bf16", ["AMX"]) and not cpu_computes("bf16", ["AVX2", "AVX-512", "AVX512-FP16"])


def test_this_cpus_bf16_as_torchs_own_probes_see_it():
    """/proc/cpuinfo's flags and torch's probes (two sources) agree on this machine's bf16."""
    if sys.platform != "linux":
        return
    isa = cpu_identity()["isa"]
    torch_sees = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert cpu_computes("bf16", isa) == torch_sees == cpu_computes("bf16")
