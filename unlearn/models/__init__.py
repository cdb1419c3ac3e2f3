"""Models: loading any checkpoint (`loading`), its relearn.json card and the chain of models its
cards name (`card`), the embedded SmolLM2's GGUF conversion (`gguf`) and the `tiny` preset."""
