"""Shared helpers for the HTTP tests: environment, psql, and extra appview-api instances.

Environment (set by scripts/test.sh): APPVIEW_URL, APPVIEW_RATELIMITED_URL, DATABASE_URL,
APPVIEW_INGEST (the API binary is its sibling unless APPVIEW_API_BIN is set), REPO_ROOT.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.environ.get("REPO_ROOT") or os.path.dirname(os.path.dirname(HERE))


def required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the HTTP tests through scripts/test.sh (make test)")
    return value


def api_binary():
    explicit = os.environ.get("APPVIEW_API_BIN")
    if explicit:
        return explicit
    ingest = os.environ.get("APPVIEW_INGEST")
    if ingest:
        return os.path.join(os.path.dirname(ingest), "appview-api")
    return os.path.join(REPO_ROOT, ".build", "debug", "appview-api")


def psql(sql, database_url=None):
    """Runs SQL with psql against DATABASE_URL and returns stdout (unaligned, tuples only)."""
    url = database_url or required_env("DATABASE_URL")
    result = subprocess.run(
        [os.environ.get("PSQL", "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True, capture_output=True, text=True, timeout=30)
    return result.stdout.strip()


def postgres_unix_socket(database_url):
    """The server's unix socket file for a libpq URI like postgresql:///db?host=/dir&port=5432."""
    query = urllib.parse.parse_qs(urllib.parse.urlparse(database_url).query)
    host = query.get("host", ["/var/run/postgresql"])[0]
    port = query.get("port", ["5432"])[0]
    return os.path.join(host, f".s.PGSQL.{port}"), urllib.parse.urlparse(database_url).path.lstrip("/"), \
        query.get("user", [None])[0]


def with_database(database_url, name):
    """The same libpq URI with another database name (postgresql:///old?... → postgresql:///name?...)."""
    scheme_end = database_url.index("://") + 3
    slash = database_url.index("/", scheme_end)
    query = database_url.find("?", slash)
    return database_url[:slash] + "/" + name + (database_url[query:] if query >= 0 else "")


class ApiInstance:
    """An appview-api process of its own, on its own unix socket, for tests that stop or break it."""

    def __init__(self, database_url, threads=4, extra_env=None, socket_path=None):
        self.directory = tempfile.mkdtemp(prefix="appview-http-")
        self.socket_path = socket_path or os.path.join(self.directory, "api.sock")
        self.log_path = os.path.join(self.directory, "api.log")
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database_url, "FCGI_LISTEN": self.socket_path, "API_THREADS": str(threads),
            "MIGRATIONS_DIR": os.environ.get("MIGRATIONS_DIR") or os.path.join(REPO_ROOT, "migrations"),
        })
        env.update(extra_env or {})
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([api_binary()], env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        deadline = time.monotonic() + 30
        while not self._accepts_connections():
            if self.process.poll() is not None:
                raise AssertionError(f"appview-api exited with {self.process.returncode}: {self.read_log()}")
            if time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"appview-api did not create {self.socket_path}: {self.read_log()}")
            time.sleep(0.05)

    def _accepts_connections(self):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.socket_path)
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def read_log(self):
        self.log.flush()
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def terminate(self, timeout=20):
        """SIGTERM, then the exit code (killing it if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"appview-api did not exit within {timeout}s of SIGTERM: {self.read_log()}")

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()
