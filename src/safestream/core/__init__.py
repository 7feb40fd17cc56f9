"""Domain vocabulary shared by every part: signals, banks, matches, errors and configuration."""
