#!/usr/bin/env python3
"""Summarises a JFR file's execution samples: top frames and top Sover frames per thread group.
Usage: bench/jfr-top.py file.jfr [N] [LAST_SECONDS]   (LAST_SECONDS: only the samples of the recording's last seconds)"""
import re, subprocess, sys
from collections import Counter

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
last = float(sys.argv[3]) if len(sys.argv) > 3 else None
text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path],
                      capture_output=True, text=True, check=True).stdout
samples = text.split("jdk.ExecutionSample")[1:]

def when(s):
    m = re.search(r'startTime = (\d\d):(\d\d):(\d\d)\.(\d+)', s)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + float("0." + m.group(4)) if m else None

if last is not None:
    times = [t for t in map(when, samples) if t is not None]
    end = max(times)
    samples = [s for s in samples if (when(s) or 0) >= end - last]
top, sover, groups = Counter(), Counter(), Counter()
for s in samples:
    m = re.search(r'sampledThread = "([^"]*)"', s)
    thread = re.sub(r'[-#]?\d+$', '', m.group(1)) if m else "?"
    frames = re.findall(r'^\s+([\w$.<>]+)\(', s, re.M)
    if not frames:
        continue
    groups[thread] += 1
    top[(thread, frames[0])] += 1
    own = next((f for f in frames if f.startswith("org.sover.")), None)
    if own:
        sover[(thread, own)] += 1
total = sum(groups.values())
print(f"{total} samples")
print("by thread group:")
for k, v in groups.most_common(n):
    print(f"  {v:6d} {100*v/total:5.1f}%  {k}")
print("top frames (thread group, method):")
for (t, f), v in top.most_common(n):
    print(f"  {v:6d} {100*v/total:5.1f}%  {t}: {f}")
print("innermost org.sover frame on the stack:")
for (t, f), v in sover.most_common(n):
    print(f"  {v:6d} {100*v/total:5.1f}%  {t}: {f}")
