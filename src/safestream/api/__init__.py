"""The HTTP surface: a versioned JSON API under /v1, health, metrics, and the console router."""
