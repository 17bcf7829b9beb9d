#!/usr/bin/env python3
"""Summarises a JFR file's execution samples: top frames and top Sover frames per thread group.
Usage: bench/jfr-top.py file.jfr [N] [LAST_SECONDS | FROM:TO]
  LAST_SECONDS: only the samples of the recording's last seconds;
  FROM:TO: only those from FROM to TO seconds after the first sample (see --timeline);
  --timeline (instead of N): samples per second and thread group, to find a row's timed phase.
Works on JFR's own recordings and on async-profiler's (event=cpu,...,jfr), whose samples include
native code, JIT stubs (SHA-256, AES) and the kernel."""
import re, subprocess, sys
from collections import Counter

path = sys.argv[1]
timeline = len(sys.argv) > 2 and sys.argv[2] == "--timeline"
n = int(sys.argv[2]) if len(sys.argv) > 2 and not timeline else 12
window = sys.argv[3] if len(sys.argv) > 3 else None
text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path],
                      capture_output=True, text=True, check=True).stdout
samples = text.split("jdk.ExecutionSample")[1:]

def when(s):
    m = re.search(r'startTime = (\d\d):(\d\d):(\d\d)\.(\d+)', s)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + float("0." + m.group(4)) if m else None

def group(s):
    m = re.search(r'sampledThread = "([^"]*)"', s)
    return re.sub(r'[-#]?\d+$', '', m.group(1)) if m else "?"

times = [t for t in map(when, samples) if t is not None]
if timeline:
    start = min(times)
    per = {}
    for s in samples:
        per.setdefault(int((when(s) or start) - start), Counter())[group(s)] += 1
    for sec in sorted(per):
        print(f"{sec:4d} s  " + ", ".join(f"{g} {c}" for g, c in per[sec].most_common(5)))
    sys.exit(0)
if window is not None and ":" in window:
    lo, hi = (float(x) + min(times) for x in window.split(":"))
    samples = [s for s in samples if lo <= (when(s) or 0) < hi]
elif window is not None:
    end = max(times)
    samples = [s for s in samples if (when(s) or 0) >= end - float(window)]
top, sover, groups = Counter(), Counter(), Counter()
for s in samples:
    thread = group(s)
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
