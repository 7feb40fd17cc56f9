"""`python -m safestream.cli`: what `serve` uses to start its `link` process."""

from safestream.cli import app

app()
