"""appview-api instances of their own: graceful SIGTERM, database outage, the API's own body cap.
They talk FastCGI directly (fastcgi_client), so no second nginx is needed."""
import concurrent.futures
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import fastcgi_client
from appview_env import ApiInstance, postgres_unix_socket, psql, required_env


@pytest.fixture
def api():
    instance = ApiInstance(required_env("DATABASE_URL"), threads=4)
    yield instance
    instance.close()


def test_direct_fastcgi_health_and_headers(api):
    response = fastcgi_client.request(api.socket_path, "/health")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["content-length"]) == len(response.body)


def test_api_caps_bodies_itself_without_calling_the_handler(api):
    # nginx caps at 10 MB too, but the API must not trust its front: 10 MB + 1 byte → 413 JSON.
    response = fastcgi_client.request(api.socket_path, "/xrpc/com.example.upload", method="POST",
                                      body=b"y" * (10 * 1024 * 1024 + 1), timeout=30)
    assert response.status == 413
    assert b"PayloadTooLarge" in response.body
    # Exactly 10 MB is allowed through to the router (501 from the unknown method).
    response = fastcgi_client.request(api.socket_path, "/xrpc/com.example.upload", method="POST",
                                      body=b"y" * (10 * 1024 * 1024), timeout=30)
    assert response.status == 501
    assert fastcgi_client.request(api.socket_path, "/health").status == 200


def test_oversized_body_is_drained_so_the_keepalive_connection_survives(api):
    connection = fastcgi_client.Connection(api.socket_path, keep_alive=True, timeout=30)
    try:
        assert connection.request("/xrpc/com.example.upload", method="POST", body=b"z" * (11 * 1024 * 1024)).status == 413
        assert connection.request("/health").status == 200
    finally:
        connection.close()


def test_sigterm_lets_in_flight_requests_finish_and_exits_zero(api):
    # Hold a lock the health query needs, so requests are provably in flight when SIGTERM arrives.
    locker = subprocess.Popen(
        [os.environ.get("PSQL", "psql"), "-X", "-q", required_env("DATABASE_URL"), "-c",
         "BEGIN; LOCK TABLE ingest_cursor IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1.5); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                   "WHERE c.relname = 'ingest_cursor' AND l.mode = 'AccessExclusiveLock' AND l.granted") != "1":
            assert time.monotonic() < deadline, "lock was not taken"
            time.sleep(0.05)
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(fastcgi_client.request, api.socket_path, "/health", timeout=20) for _ in range(3)]
            time.sleep(0.4)
            assert not any(f.done() for f in futures), "requests were not blocked on the lock"
            api.process.send_signal(15)
            time.sleep(0.3)
            # Stopped accepting: new connections are refused while the running requests continue.
            with pytest.raises(OSError):
                fastcgi_client.request(api.socket_path, "/health", timeout=3)
            responses = [f.result(timeout=20) for f in futures]
        assert [r.status for r in responses] == [200, 200, 200], [r.body for r in responses]
        assert api.process.wait(timeout=20) == 0
        assert not os.path.exists(api.socket_path), "socket file left behind"
        log = api.read_log()
        assert "FastCGI server stopped" in log and "abandonedRequests=0" in log, log
    finally:
        locker.wait(timeout=20)


def test_keepalive_connection_serves_several_requests(api):
    connection = fastcgi_client.Connection(api.socket_path, keep_alive=True)
    try:
        statuses = [connection.request(path).status for path in ("/health", "/xrpc/com.example.x", "/health")]
        assert statuses == [200, 501, 200]
    finally:
        connection.close()


def test_sigterm_with_idle_keepalive_connections_still_exits_promptly(api):
    # Kept-alive connections pin workers inside read(); shutdown(listenFd) cannot reach them, so
    # the server must wake them itself. Also a connection that never sent anything.
    kept = [fastcgi_client.Connection(api.socket_path, keep_alive=True) for _ in range(3)]
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(api.socket_path)
    try:
        for connection in kept:
            assert connection.request("/health").status == 200
        started = time.monotonic()
        assert api.terminate(timeout=15) == 0
        assert time.monotonic() - started < 5
        assert "abandonedRequests=0" in api.read_log()
    finally:
        silent.close()
        for connection in kept:
            connection.close()


class PostgresProxy:
    """TCP → PostgreSQL unix socket forwarder that the test can cut, to make the database unreachable."""

    def __init__(self, unix_path):
        self.unix_path = unix_path
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.lock = threading.Lock()
        self.start()

    def start(self):
        if self.listener is None:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept_loop, args=(self.listener,), daemon=True).start()

    def _accept_loop(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.unix_path)
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """Closes the listener and every forwarded connection: the port is now closed."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread; close() alone does not
        except OSError:
            pass
        self.listener.close()
        self.listener = None
        with self.lock:
            for s in self.connections:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.connections = []


def test_health_is_503_json_quickly_when_the_database_is_unreachable():
    unix_path, database, user = postgres_unix_socket(required_env("DATABASE_URL"))
    proxy = PostgresProxy(unix_path)
    url = f"postgresql://{user + '@' if user else ''}127.0.0.1:{proxy.port}/{database}"
    instance = ApiInstance(url, threads=2, extra_env={"DB_CONNECT_TIMEOUT_S": "2", "DB_ACQUIRE_TIMEOUT_MS": "1000"})
    try:
        assert fastcgi_client.request(instance.socket_path, "/health").status == 200
        proxy.cut()
        for _ in range(2):  # the first finds its pooled connection dead, the second cannot reconnect
            started = time.monotonic()
            response = fastcgi_client.request(instance.socket_path, "/health", timeout=15)
            elapsed = time.monotonic() - started
            assert elapsed < 5, f"/health took {elapsed:.1f}s with the database down"
            assert response.status == 503, response.body
            assert response.headers["content-type"].startswith("application/json")
            health = json.loads(response.body)
            assert health["status"] == "unavailable"
            assert health["database"]["reachable"] is False
            assert health["database"]["error"]
            assert "pool" in health and "schema" in health and "ingest" in health
            assert response.headers.get("retry-after")
        # The process survived the outage and heals when the database is back, without a restart.
        proxy.start()
        deadline = time.monotonic() + 15
        while fastcgi_client.request(instance.socket_path, "/health", timeout=15).status != 200:
            assert time.monotonic() < deadline, "the API did not recover after the database came back"
            time.sleep(0.2)
        assert instance.terminate() == 0
    finally:
        instance.close()
        if proxy.listener is not None:
            proxy.cut()
