"""Knowledge circuits: edge attribution patching (EAP, EAP-IG) with grouped-query attention, circuits
sized by held-out normalised faithfulness (MIB's grid, CPR/CMD), export, and checkpoint diffs on a
fixed edge set with bootstrap intervals; their figures are in `relearn_interp.plots` (circuit,
circuit_diff, faithfulness). See docs/knowledge-circuits.md."""
