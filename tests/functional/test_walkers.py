# SPDX-License-Identifier: MIT
"""The walker without bpf_loop, the one kernels before 5.17 load, on real interpreters.

PYFLARE_NO_BPF_LOOP=1 makes pyflare load it even where the kernel has bpf_loop, so that it
is tested on every run against the same workloads as the bpf_loop walker (test_record.py):
the same names, nesting and shares, and the same depth (1024 frames, then <truncated>).
`make kernel-test` runs it where it is the only choice (Linux 5.10).
"""
import test_record

NO_BPF_LOOP = {"PYFLARE_NO_BPF_LOOP": "1"}


def with_no_bpf_loop(workload):
    """The workload fixture, recording with the walker without bpf_loop."""
    return lambda stem, **kw: workload(stem, env=NO_BPF_LOOP, **kw)


def test_nested_frames(workload):
    test_record.test_nested_frames(with_no_bpf_loop(workload))


def test_nested_nesting(workload):
    test_record.test_nested_nesting(with_no_bpf_loop(workload))


def test_nested_shares(workload):
    test_record.test_nested_shares(with_no_bpf_loop(workload))


def test_recursion_walked_whole(workload):
    test_record.test_recursion_walked_whole(with_no_bpf_loop(workload))


def test_recursion_truncated(workload):
    test_record.test_recursion_truncated(with_no_bpf_loop(workload))


def test_walker_named_at_verbose(workload):
    """-v says which walker recorded, so a user can tell which ran."""
    case = with_no_bpf_loop(workload)("nested", opts=["-v"])
    assert "using the walker without it" in case.result.stderr, case.result.stderr[-2000:]
