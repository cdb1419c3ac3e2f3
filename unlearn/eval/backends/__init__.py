"""Backends the metrics need: entities, embeddings, NLI, the fluency/relevance judge, LLM chat."""
