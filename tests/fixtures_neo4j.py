"""Fixtures for a real Neo4j server.

By default one private Neo4j (the Maven-built launcher in tests/neo4j_launcher) is started per test
session on a free port in a temporary folder. To run the tests against a server of your own, set
KGC_TEST_NEO4J_URI, KGC_TEST_NEO4J_USER and KGC_TEST_NEO4J_PASSWORD. The tests WIPE that database,
which is why these are not the NEO4J_* variables that `kgc export neo4j` reads.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import neo4j
import pytest

from tests.neo4j_launcher.server import LauncherError, Neo4jServer, start_server, stop_server


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    uri = os.environ.get("KGC_TEST_NEO4J_URI")
    if uri:
        yield Neo4jServer(
            uri=uri,
            user=os.environ.get("KGC_TEST_NEO4J_USER", "neo4j"),
            password=os.environ.get("KGC_TEST_NEO4J_PASSWORD", ""),
        )
        return
    try:
        server = start_server(tmp_path_factory.mktemp("neo4j"))
    except LauncherError as e:
        pytest.fail(f"could not start the Neo4j test server: {e}", pytrace=False)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: Neo4jServer) -> Iterator[neo4j.Driver]:
    driver = neo4j.GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password))
    try:
        driver.verify_connectivity()
    except Exception as e:
        driver.close()
        pytest.fail(f"the Neo4j test server does not answer: {e}\n{neo4j_server.output()}", pytrace=False)
    yield driver
    driver.close()


@pytest.fixture
def clean_neo4j(neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    """The session's driver, on a default database emptied of data, constraints and indexes."""
    wipe_database(neo4j_driver)
    return neo4j_driver


def wipe_database(driver: neo4j.Driver) -> None:
    """Delete all data (in bounded transactions, so a benchmark-sized graph fits the heap),
    then every constraint and index except the built-in lookup indexes."""
    deleted = -1
    while deleted != 0:
        deleted = driver.execute_query(
            "MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS deleted"
        ).records[0]["deleted"]
    for record in driver.execute_query("SHOW CONSTRAINTS YIELD name").records:
        driver.execute_query(f"DROP CONSTRAINT `{record['name']}` IF EXISTS")
    indexes = driver.execute_query(
        "SHOW INDEXES YIELD name, type, owningConstraint WHERE type <> 'LOOKUP' AND owningConstraint IS NULL "
        "RETURN name"
    ).records
    for record in indexes:
        driver.execute_query(f"DROP INDEX `{record['name']}` IF EXISTS")


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream server. `reset()` drops the open connections (a
    network blip); `cut()` also refuses new ones (an outage). The server itself keeps running."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        self.accepted = 0  # connections forwarded so far
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # cut() closed the listener
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut:
                    client.close()
                    server.close()
                    return
                self._open += [client, server]
                self.accepted += 1
            threading.Thread(target=_pump, args=(client, server), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client), daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            _close(s)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
        _close(self._listener)
        self.reset()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)  # also wakes a thread blocked in accept()/recv()
    s.close()


@pytest.fixture
def neo4j_proxy(neo4j_server: Neo4jServer) -> Iterator[TcpProxy]:
    parts = urlsplit(neo4j_server.uri)
    if parts.scheme.endswith(("+s", "+ssc")):
        pytest.skip("the cutting proxy speaks plain Bolt; the server given by KGC_TEST_NEO4J_URI uses TLS")
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 7687))
    yield proxy
    proxy.cut()
