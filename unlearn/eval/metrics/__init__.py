"""Metrics of the ReLearn paper's evaluation: ECS, KFR/KRR, Linguistic Score, ROUGE-L recall."""
