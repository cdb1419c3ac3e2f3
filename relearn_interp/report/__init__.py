"""REPORT.md and figures/, drawn from a main-job run's saved results alone (no model is loaded).

`load` reads a run's results (paths from `relearn_interp.layout`), `render` draws the figures and
writes REPORT.md and claims.json, `sections` renders each section of REPORT.md.
"""
