#!/usr/bin/env python3
"""rsswatch.py OUT.json -- CMD...: runs CMD, samples the summed VmRSS of its whole
process tree every 50 ms, and writes {"wall_s", "peak_tree_rss_kib", "rc"} to OUT.json.
(GNU time's maximum RSS is that of the largest single process; multi-process indexers
need the sum.)"""
import json, os, subprocess, sys, time

def tree_rss(root):
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(p))
            except OSError:
                pass
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        stack.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total

out, cmd = sys.argv[1], sys.argv[3:]
t0 = time.perf_counter()
proc = subprocess.Popen(cmd)
peak = 0
while proc.poll() is None:
    peak = max(peak, tree_rss(proc.pid))
    time.sleep(0.05)
json.dump({"wall_s": time.perf_counter() - t0, "peak_tree_rss_kib": peak, "rc": proc.returncode}, open(out, "w"))
sys.exit(proc.returncode)
