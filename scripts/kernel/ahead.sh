#!/bin/sh
# SPDX-License-Identifier: MIT
# ahead.sh — run a command ahead of the host's other work: in a session of its own, whose
# scheduler autogroup gets KERNEL_NICE (default -15; 0 to run as any other), as the command does.
#
#   scripts/kernel/ahead.sh COMMAND [ARGS...]
#
# The kernel matrix measures time: a profile's seconds against the workload's own clocks, the
# BPF programs' load times. On a busy host those drift with the neighbours, and a guest under
# TCG cannot even tell (it has no steal time: its clocks count the time its vCPU threads wait
# for a host CPU as time run, while its timers fire late). Nice alone does not reach across
# sessions (autogroups, on by default), hence the session of its own. Needs root for a
# negative nice; without it nice says so and the command runs as it is.
nice=${KERNEL_NICE:--15}
exec setsid --wait sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$nice" "$@"
