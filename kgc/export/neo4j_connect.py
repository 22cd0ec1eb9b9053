"""Connecting to Neo4j: credentials from the environment, a checked driver and database, and driver
errors turned into the KgcError a user can act on (by class and code, never by text)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import BaseModel, SecretStr

from kgc.errors import ConfigError, ExportError

DEFAULT_URI = "neo4j://localhost:7687"
DEFAULT_USER = "neo4j"
# Bolt only: the driver's HTTP transport (http://) is a preview feature that needs extra packages.
BOLT_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")

_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"
# IncompleteCommit: the connection died during COMMIT. Re-running is safe either way (MERGE).
_CONNECTION_LOST = (
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
    neo4j_errors.IncompleteCommit,
)


class Neo4jAuthError(ExportError):
    """The server rejected the user name or password."""


class Neo4jUnavailableError(ExportError):
    """The server cannot be reached, or the connection was lost and retries did not help."""


class Neo4jDatabaseNotFoundError(ExportError):
    """The server has no database of the requested name."""


@dataclass(frozen=True)
class Neo4jTarget:
    """A driver plus the database to use. Building one does no I/O; `connect()` also verifies it."""

    driver: neo4j.Driver
    database: str | None = None  # None: the user's home database
    database_id: str = ""  # the store id from db.info(); ties a checkpoint to one database

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> Neo4jTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Neo4jCredentials(BaseModel):
    """Connection settings; unset fields come from NEO4J_URI, NEO4J_USER (or NEO4J_USERNAME, as in
    the credentials file Aura hands out), NEO4J_PASSWORD and NEO4J_DATABASE."""

    uri: str = DEFAULT_URI
    user: str = DEFAULT_USER
    password: SecretStr
    database: str | None = None

    @classmethod
    def from_env(
        cls,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
    ) -> Neo4jCredentials:
        env = os.environ
        resolved_password = password or env.get("NEO4J_PASSWORD")
        if not resolved_password:
            raise ConfigError("no Neo4j password: set NEO4J_PASSWORD")
        return cls(
            uri=uri or env.get("NEO4J_URI") or DEFAULT_URI,
            user=user or env.get("NEO4J_USER") or env.get("NEO4J_USERNAME") or DEFAULT_USER,
            password=SecretStr(resolved_password),
            database=database or env.get("NEO4J_DATABASE") or None,
        )


def connect(
    uri: str,
    user: str,
    password: str,
    database: str | None = None,
    *,
    timeout: float = 15.0,
    retry_time: float = 30.0,
) -> Neo4jTarget:
    """Open a driver, check the credentials and that `database` exists; the caller closes it.

    The target names the database explicitly (the user's home database when `database` is None).

    `timeout` bounds each connection attempt; `retry_time` is how long a failing transaction is
    retried before the export gives up.
    """
    scheme = uri.partition("://")[0]
    if "://" not in uri or scheme not in BOLT_SCHEMES:
        raise ConfigError(
            f"invalid Neo4j URI {uri!r}: use one of {', '.join(s + '://' for s in BOLT_SCHEMES)}"
        )
    try:
        driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=timeout,
            max_transaction_retry_time=retry_time,
        )
    except (neo4j_errors.ConfigurationError, ValueError) as e:
        raise ConfigError(f"invalid Neo4j URI {uri!r}: {e}") from e
    try:
        driver.verify_connectivity()
        database_name, database_id = _database_identity(driver, database)
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as e:
        driver.close()
        raise translate_error(e, f"connecting to {uri} as {user!r}", database) from e
    return Neo4jTarget(driver=driver, database=database_name, database_id=database_id)


def _database_identity(driver: neo4j.Driver, database: str | None) -> tuple[str, str]:
    """(name, store id) of `database`, or of the user's home database when it is None."""
    records = driver.execute_query(
        "CALL db.info() YIELD id, name RETURN id, name",
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    ).records
    return str(records[0]["name"]), str(records[0]["id"])


def translate_error(error: Exception, action: str, database: str | None) -> ExportError:
    """A driver error as the KgcError a user can act on (matched by class and code, never text)."""
    if isinstance(error, neo4j_errors.AuthError):
        return Neo4jAuthError(f"{action}: the server rejected the user name or password")
    if isinstance(error, neo4j_errors.ClientError) and error.code == _DATABASE_NOT_FOUND:
        return Neo4jDatabaseNotFoundError(f"{action}: the server has no database {database!r}")
    if isinstance(error, _CONNECTION_LOST):
        return Neo4jUnavailableError(f"{action}: Neo4j is unreachable ({error})")
    return ExportError(f"{action}: {error}")
