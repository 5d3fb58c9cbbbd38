#!/usr/bin/env python3
"""Puts an experiment's report into docs/experiment.md and its plots into docs/experiment/.

The report of `mage experiment --out DIR` (DIR/report.md) replaces what lies between the
markers "<!-- report begins -->" and "<!-- report ends -->" of docs/experiment.md, its
headings one level down and its plots linked from docs/experiment/. Usage:
    build/mage experiment --out runs/experiment
    scripts/refresh_experiment.py runs/experiment
"""
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "experiment.md"
PLOTS = ROOT / "docs" / "experiment"
BEGIN, END = "<!-- report begins -->", "<!-- report ends -->"

if len(sys.argv) != 2:
    sys.exit(__doc__)
run = pathlib.Path(sys.argv[1])
report = (run / "report.md").read_text()
report = re.sub(r"^(#+) ", r"#\1 ", report, flags=re.M)
report = re.sub(r"\]\((convergence-[a-z0-9_]+\.svg)\)", r"](experiment/\1)", report)
PLOTS.mkdir(exist_ok=True)
for old in PLOTS.glob("convergence-*.svg"):
    old.unlink()
for plot in sorted(run.glob("convergence-*.svg")):
    shutil.copy(plot, PLOTS / plot.name)
text = DOC.read_text()
start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
DOC.write_text(text[:start] + "\n" + report.rstrip("\n") + "\n" + text[end:])
