#!/usr/bin/env bash
# Build (once) and run the embedded Neo4j test server.
#
#   tests/neo4j_launcher/run.sh build              build the launcher if its jars are missing or stale
#   tests/neo4j_launcher/run.sh admin HOME ARGS... run neo4j-admin (e.g. `database import full ...`)
#                                                  on the Neo4j home HOME (a server's DATA_DIR/neo4j)
#   tests/neo4j_launcher/run.sh PORT DATA_DIR [PASSWORD]
#                                                  build if needed, then run Neo4j with Bolt on
#                                                  127.0.0.1:PORT (password: arg or $NEO4J_PASSWORD)
#
# Prints "NEO4J READY bolt://127.0.0.1:PORT" once clients can connect; SIGTERM stops it cleanly.
# Maven uses its default local repository (~/.m2), so downloads are cached across runs.
# NEO4J_LAUNCHER_HEAP overrides the JVM heap (default 1g); NEO4J_LAUNCHER_JAVA_OPTS adds JVM options.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/neo4j-launcher.jar"

build_if_needed() {
    if [[ -f "$jar" && -d "$here/target/lib" && "$jar" -nt "$here/pom.xml" \
          && "$jar" -nt "$here/src/main/java/kgc/neo4j/Launcher.java" ]]; then
        return 0
    fi
    echo "neo4j-launcher: building with Maven (a first build downloads ~175 MB into ~/.m2)" >&2
    # The lib folder is rebuilt whole so that a version bump leaves no stale jars on the classpath.
    rm -rf "$here/target/lib"
    mvn -q -B -f "$here/pom.xml" package >&2
}

if [[ $# -eq 1 && "$1" == "build" ]]; then
    build_if_needed
    exit 0
fi
if [[ $# -ge 2 && "$1" == "admin" ]]; then
    build_if_needed
    home="$(realpath -m "$2")"
    shift 2
    mkdir -p "$home/conf"
    touch "$home/conf/neo4j.conf"  # neo4j-admin reads its settings from there; the defaults do
    NEO4J_HOME="$home" NEO4J_CONF="$home/conf" exec java -Xmx1g -cp "$jar:$here/target/lib/*" \
        org.neo4j.cli.AdminTool "$@"
fi
if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 build | admin HOME ARGS... | PORT DATA_DIR [PASSWORD]" >&2
    exit 2
fi
build_if_needed

heap="${NEO4J_LAUNCHER_HEAP:-1g}"
# The module openings and Netty flags are the ones Neo4j's own launcher passes to the JVM.
exec java \
    -Xms256m "-Xmx$heap" -XX:+ExitOnOutOfMemoryError \
    -XX:+UnlockDiagnosticVMOptions -XX:-OmitStackTraceInFastThrow \
    --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED \
    -Dio.netty.tryReflectionSetAccessible=true \
    -Djdk.nio.maxCachedBufferSize=1024 \
    -Dlog4j2.disable.jmx=true \
    ${NEO4J_LAUNCHER_JAVA_OPTS:-} \
    -cp "$jar:$here/target/lib/*" \
    kgc.neo4j.Launcher "$@"
