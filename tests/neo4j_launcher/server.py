"""Start and stop the embedded Neo4j test server that run.sh builds and runs.

Used by tests/fixtures_neo4j.py and bench/. From a shell:

    python -m tests.neo4j_launcher.server [--port PORT] [--data-dir DIR]

starts a server (building it first if needed), prints its URI and password, and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

LAUNCHER_DIR = Path(__file__).resolve().parent
RUN_SH = LAUNCHER_DIR / "run.sh"
READY_PREFIX = "NEO4J READY "
USER = "neo4j"
BUILD_TIMEOUT = 480.0  # a first build downloads ~175 MB from Maven Central (~50 s here)
START_TIMEOUT = 300.0  # ~20-35 s on a busy 2-core box; both stay under pytest's 900 s timeout
STOP_TIMEOUT = 60.0


class LauncherError(RuntimeError):
    """The test server could not be built or started; the message carries its output."""


@dataclass
class Neo4jServer:
    """A running server: ours (process is set) or a user's (process is None)."""

    uri: str
    user: str
    password: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    data_dir: Path | None = None
    started_in: float = 0.0  # seconds from launch to the ready line
    log_file: IO[bytes] | None = field(default=None, repr=False)

    def output(self) -> str:
        """What the launcher printed so far (for failure messages)."""
        if self.log_path is None or not self.log_path.is_file():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def build_launcher(timeout: float = BUILD_TIMEOUT) -> None:
    """Build the launcher jars with Maven unless they are already there and up to date."""
    try:
        done = subprocess.run(
            ["bash", str(RUN_SH), "build"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise LauncherError(f"building the Neo4j launcher took over {timeout:.0f} s") from e
    if done.returncode != 0:
        raise LauncherError(
            f"building the Neo4j launcher failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def run_admin(home: Path, args: list[str], cwd: Path, timeout: float = BUILD_TIMEOUT) -> str:
    """Run neo4j-admin (from the same Maven artifacts as the server) on the Neo4j home `home`, in `cwd`;
    its output, or LauncherError. A server started with data_dir D uses the home D / "neo4j"."""
    build_launcher()
    try:
        done = subprocess.run(
            ["bash", str(RUN_SH), "admin", str(home), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise LauncherError(f"neo4j-admin {' '.join(args[:3])} took over {timeout:.0f} s") from e
    if done.returncode != 0:
        raise LauncherError(f"neo4j-admin failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data_dir: Path,
    *,
    password: str | None = None,
    port: int | None = None,
    heap: str = "1g",
    java_opts: str = "",
    timeout: float = START_TIMEOUT,
) -> Neo4jServer:
    """Build if needed, launch, and wait for the ready line; LauncherError carries the output.

    `java_opts` are extra JVM options, e.g. "-Dkgc.neo4j.preallocateLogs=true" for Neo4j's own
    transaction-log preallocation (faster commits, ~0.5 GB more disk).
    """
    build_launcher()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    password = password or secrets.token_hex(12)
    log_path = data_dir / "launcher.log"
    log_file = log_path.open("wb")
    env = {
        **os.environ,
        "NEO4J_PASSWORD": password,
        "NEO4J_LAUNCHER_HEAP": heap,
        "NEO4J_LAUNCHER_JAVA_OPTS": java_opts,
    }
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", str(RUN_SH), str(port), str(data_dir / "neo4j")],
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server = Neo4jServer(
        uri=f"bolt://127.0.0.1:{port}",
        user=USER,
        password=password,
        process=process,
        log_path=log_path,
        data_dir=data_dir,
        log_file=log_file,
    )
    _wait_until_ready(server, started, timeout)
    server.started_in = round(time.monotonic() - started, 1)
    return server


def _wait_until_ready(server: Neo4jServer, started: float, timeout: float) -> None:
    assert server.process is not None
    while time.monotonic() - started < timeout:
        if READY_PREFIX in server.output():
            return
        if server.process.poll() is not None:
            raise LauncherError(
                f"the Neo4j launcher exited with {server.process.returncode} before it was ready:\n"
                f"{server.output()}{_debug_log_tail(server)}"
            )
        time.sleep(0.2)
    stop_server(server)
    raise LauncherError(
        f"the Neo4j launcher was not ready after {timeout:.0f} s:\n{server.output()}{_debug_log_tail(server)}"
    )


def _debug_log_tail(server: Neo4jServer, lines: int = 40) -> str:
    if server.data_dir is None:
        return ""
    debug_log = server.data_dir / "neo4j" / "logs" / "debug.log"
    if not debug_log.is_file():
        return ""
    tail = debug_log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {debug_log} ---\n" + "\n".join(tail)


def stop_server(server: Neo4jServer, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM (clean shutdown), then SIGKILL if it hangs. A user's server is left alone."""
    process = server.process
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    if server.log_file is not None:
        server.log_file.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the embedded Neo4j test server until Ctrl-C.")
    parser.add_argument("--port", type=int, default=7687)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a new temporary folder")
    parser.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD"))
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kgc-neo4j-"))
    server = start_server(data_dir, password=args.password, port=args.port)
    print(f"NEO4J_URI={server.uri} NEO4J_USER={server.user} NEO4J_PASSWORD={server.password}", flush=True)
    print(f"data: {data_dir} (ready in {server.started_in} s); Ctrl-C stops it", flush=True)
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
