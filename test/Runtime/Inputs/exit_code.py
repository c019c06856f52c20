"""Runs a command, passes its output through and prints "exit code N", so a
test can check a particular nonzero exit code."""

import subprocess
import sys

sys.stdout.flush()
code = subprocess.run(sys.argv[1:]).returncode
print(f"exit code {code}")
