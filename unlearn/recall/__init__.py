"""Fact recall, shared by training (the stop rule) and evaluation: greedy generation
(`generation`), near-miss matching (`matching`), rule-based mentions (`mentions`) and the recall
of a set of facts (`recall`)."""
