"""Knowledge circuits: edge attribution patching (EAP, EAP-IG) with grouped-query attention, pruning,
faithfulness, export, drawing and diffs between checkpoints. See docs/knowledge-circuits.md."""
