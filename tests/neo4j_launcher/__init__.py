"""The embedded Neo4j test server: a Maven-built Java launcher (run.sh) and its Python helper (server.py)."""
