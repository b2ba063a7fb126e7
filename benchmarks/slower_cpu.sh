#!/usr/bin/env bash
# Run a command as on cores FACTOR times slower: a busy loop pinned to each core, in a cgroup of that core whose CPU
# weight is FACTOR - 1 times a task's, leaves each of the command's threads 1/FACTOR of the core it runs on (while no
# more threads run than there are cores, as in the suite's one-thread workers).
# A stand-in for the slowest test machine seen (a 2-core AMD Zen 3, ~2.3x the time of the 2-core Zen 5 / Xeon for
# this suite) when a session draws a faster one. Disk and sleeps are not slowed, so where a job waits on them the
# figure is a lower bound. Needs root and the cgroup v1 cpu controller.
#   benchmarks/slower_cpu.sh 2.3 make test
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 FACTOR COMMAND [ARG...]" >&2
    exit 2
fi
factor=$1
shift
root=/sys/fs/cgroup/cpu
if [ ! -f "$root/cpu.shares" ]; then
    echo "$0: no cgroup v1 cpu controller at $root" >&2
    exit 2
fi
# The hogs' weight, FACTOR - 1 times a task's (1024); a cgroup weight lies in 2..262144.
if ! hog_weight=$(python3 -c "import sys; w = round(1024 * (float(sys.argv[1]) - 1)); assert 2 <= w <= 262144
print(w)" "$factor" 2>/dev/null); then
    echo "$0: FACTOR must be a number from 1.002 to 257, not '$factor'" >&2
    exit 2
fi
# Autogroup would put the command's processes in one group per session and share one weight among them all.
autogroup=/proc/sys/kernel/sched_autogroup_enabled
autogroup_before=$(cat "$autogroup" 2>/dev/null || echo "")
[ -z "$autogroup_before" ] || echo 0 >"$autogroup"
hogs=()
groups=()
cleanup() {
    [ -z "$autogroup_before" ] || echo "$autogroup_before" >"$autogroup"
    [ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
    [ ${#groups[@]} -eq 0 ] || rmdir "${groups[@]}" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' INT TERM
# One group per core: a group's weight is shared among the cores its tasks run on, so one group for both hogs
# would give each core's hog only half of it.
for ((cpu = 0; cpu < $(nproc); cpu++)); do
    group="$root/hifigan-slower-cpu$cpu-$$"
    mkdir "$group"
    groups+=("$group")
    echo "$hog_weight" >"$group/cpu.shares"
    bash -c 'echo $$ >"$1/cgroup.procs"; exec taskset -c "$2" bash -c "while :; do :; done"' _ "$group" "$cpu" &
    hogs+=($!)
done
echo "$0: each thread of the command gets 1024/$((1024 + hog_weight)) of its core" >&2
status=0
"$@" || status=$?
exit "$status"
