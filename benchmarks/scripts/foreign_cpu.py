#!/usr/bin/env python3
"""Samples how much CPU processes *outside* a given process tree use while a benchmark runs.

Usage: foreign_cpu.py ROOT_PID [INTERVAL_S]
Prints one summary line when ROOT_PID exits: average and peak cores used by other processes,
and CPU pressure (PSI) averages, so noisy runs on a shared machine can be recognised.
"""
import os, sys, time

def ticks():
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(')') + 2:].split()
        ppid = int(rest[1])
        cpu = int(rest[11]) + int(rest[12])  # utime + stime
        out[int(pid)] = (ppid, cpu)
    return out

def tree(root, snap):
    kids = {}
    for pid, (ppid, _) in snap.items():
        kids.setdefault(ppid, []).append(pid)
    seen, stack = set(), [root]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        stack.extend(kids.get(p, []))
    return seen

def main():
    root = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    hz = os.sysconf('SC_CLK_TCK')
    prev, t0 = ticks(), time.time()
    samples = []
    while os.path.exists(f'/proc/{root}'):
        time.sleep(interval)
        snap = ticks()
        mine = tree(root, snap) | {os.getpid()}
        foreign = 0
        for pid, (_, cpu) in snap.items():
            if pid in mine:
                continue
            # A process born since the last sample used all its CPU time within the interval.
            before = prev[pid][1] if pid in prev else 0
            foreign += max(0, cpu - before)
        samples.append(foreign / hz / interval)
        prev = snap
    with open('/proc/pressure/cpu') as f:
        psi = f.readline().strip()
    if samples:
        print(f"[foreign-cpu] {len(samples)} samples over {time.time() - t0:.0f}s: "
              f"avg {sum(samples) / len(samples):.2f} cores, peak {max(samples):.2f} cores "
              f"used by other processes; cpu pressure at end: {psi}")

if __name__ == '__main__':
    main()
