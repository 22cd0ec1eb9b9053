"""`python -m kgc.cli ...`, as the tests run it."""

from kgc.cli import app

app()
