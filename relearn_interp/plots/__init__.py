"""Figures drawn from saved results JSON alone, so `relearn-interp figures` can redraw them later."""
