"""What every benchmark record says about where and with what it ran."""
import platform
import re
import subprocess


def run(*a):
    """Output of a command, or "?" when it cannot run."""
    try:
        return subprocess.run(a, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine():
    """Cores, CPU model, memory and kernel of this machine."""
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) // 1024 // 1024
    except (OSError, AttributeError):
        pass
    load = "?"
    try:
        load = open("/proc/loadavg").read().split()[0]
    except OSError:
        pass
    # The load when the record is written: on 2 shared cores, tail latencies
    # move with it, so a p99 without it cannot be compared.
    return f"{run('nproc')} cores, {cpu}, {mem} GiB, {platform.system()} {platform.release()}, load average {load}"
