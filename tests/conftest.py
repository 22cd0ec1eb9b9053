"""Shared fixtures and the test tiers.

`pytest` runs the fast tier: in-process, seconds per module. Tests marked `embedded` (the real 1.5B
model), `neo4j` (a real Neo4j server), or `slow` (subprocesses, notebook, browser, Ray, torch models,
big data) run with `pytest --full`, which is what CI and the README's test command run.
"""

from collections.abc import Iterator

import pytest

from kgc.assets import use_local_models

use_local_models()

pytest_plugins = ["tests.fixtures_llm", "tests.fixtures_neo4j"]

FULL_ONLY = ("embedded", "neo4j", "slow")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true", help="also run the embedded, neo4j and slow tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="full suite only: run `pytest --full`")
    for item in items:
        if any(marker in item.keywords for marker in FULL_ONLY):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    """A real Ray runtime on this machine (2 CPUs), started and stopped by a test module."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
