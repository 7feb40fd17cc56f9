"""Exchange: import and export of hash lists and signals in the formats other tools use."""
