"""Every figure, one module per family, and the style (`style`: one colour per method, the
readability checks, atomic saving). Figures are drawn from saved results alone, so
`relearn-interp figures` can redraw them later; the analyses never import this package, the
commands and the report draw after running or loading them."""
