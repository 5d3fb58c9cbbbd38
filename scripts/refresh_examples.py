#!/usr/bin/env python3
"""Re-runs every example of a Markdown file and replaces its output with today's.

An example is a fenced block whose first line is "$ build/mage ARGS"; the command runs from
the repository's root (build/ must be built). Usage: scripts/refresh_examples.py docs/explain.md
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def refreshed(match: re.Match) -> str:
    command = match.group(1)
    run = subprocess.run("build/" + command, shell=True, capture_output=True, text=True, cwd=ROOT)
    return "```\n$ build/" + command + "\n" + (run.stdout + run.stderr).rstrip("\n") + "\n```"


for name in sys.argv[1:]:
    path = pathlib.Path(name)
    text = path.read_text()
    path.write_text(re.sub(r"```\n\$ build/(mage [^\n]*)\n.*?\n```", refreshed, text, flags=re.S))
