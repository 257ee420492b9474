"""Run a command, then write its wall time and peak resident memory as JSON.

    python peak.py RESULT_FILE COMMAND...

The bench starts each step through this small process because on Linux a
child's peak (ru_maxrss) starts from its parent's memory and survives exec:
started by the runner directly, every step would report at least the runner's
own memory, which grows as it checks a million rows.
"""

import json
import os
import subprocess
import sys
import time

result, *command = sys.argv[1:]
started = time.perf_counter()
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
with open(result, "w") as file:
    # Linux reports ru_maxrss in KiB.
    json.dump({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}, file)
sys.exit(os.waitstatus_to_exitcode(status))
