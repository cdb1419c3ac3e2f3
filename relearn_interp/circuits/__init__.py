"""Knowledge circuits: edge attribution patching (EAP, EAP-IG) with grouped-query attention, circuits
sized by held-out normalised faithfulness (MIB's grid, CPR/CMD), export, drawing, and checkpoint
diffs on a fixed edge set with bootstrap intervals. See docs/knowledge-circuits.md."""
