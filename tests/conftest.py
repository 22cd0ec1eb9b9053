"""Shared fixtures. Fixture modules per component are registered here as plugins."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = ["tests.fixtures_llm", "tests.fixtures_neo4j"]
