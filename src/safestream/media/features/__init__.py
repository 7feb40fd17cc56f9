"""Second matching stage: local features (ORB), their index, geometric verification."""
