"""appview-api refuses bad configuration (exit 2), an old schema, and a socket already served."""
import os
import subprocess
import tempfile
import socket

import pytest

import fastcgi_client
from appview_env import REPO_ROOT, ApiInstance, api_binary, psql, required_env, with_database


def run_api(env_changes, timeout=30, arguments=()):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FCGI_LISTEN", "API_THREADS")}
    env["FCGI_LISTEN"] = os.path.join(tempfile.mkdtemp(prefix="appview-http-"), "api.sock")
    env.update(env_changes)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([api_binary(), *arguments], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


@pytest.mark.parametrize("changes, named", [
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"API_THREADS": "0"}, "API_THREADS"),
    ({"API_THREADS": "many"}, "API_THREADS"),
    ({"FCGI_LISTEN": "localhost:http"}, "FCGI_LISTEN"),
    ({"DB_POOL_SIZE": "-1"}, "DB_POOL_SIZE"),
    ({"STATEMENT_TIMEOUT_MS": "3s"}, "STATEMENT_TIMEOUT_MS"),
    ({"DB_ACQUIRE_TIMEOUT_MS": "0"}, "DB_ACQUIRE_TIMEOUT_MS"),
    ({"IMAGE_URL_TEMPLATE": "https://cdn.example/{cid}"}, "IMAGE_URL_TEMPLATE"),
    ({"VIDEO_URL_TEMPLATE": "https://video.example/{did}/{cid}"}, "VIDEO_URL_TEMPLATE"),
])
def test_invalid_configuration_exits_2_naming_the_variable(changes, named):
    base = {"DATABASE_URL": required_env("DATABASE_URL")}
    base.update(changes)
    result = run_api(base)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr


def test_refuses_to_start_on_an_unmigrated_database():
    empty = "http_fcgi_unmigrated"
    psql(f"DROP DATABASE IF EXISTS {empty}")
    psql(f"CREATE DATABASE {empty}")
    try:
        result = run_api({"DATABASE_URL": with_database(required_env("DATABASE_URL"), empty)})
        assert result.returncode == 1, result.stderr
        assert "appview-ingest migrate" in result.stderr
    finally:
        psql(f"DROP DATABASE IF EXISTS {empty} WITH (FORCE)")


def test_second_instance_on_the_same_socket_is_refused_and_the_first_keeps_serving():
    first = ApiInstance(required_env("DATABASE_URL"), threads=2)
    try:
        result = run_api({"DATABASE_URL": required_env("DATABASE_URL"), "FCGI_LISTEN": first.socket_path})
        assert result.returncode == 1, result.stderr
        assert "already serving" in result.stderr
        assert fastcgi_client.request(first.socket_path, "/health").status == 200
        assert first.terminate() == 0
    finally:
        first.close()


def test_stale_socket_file_is_replaced():
    directory = tempfile.mkdtemp(prefix="appview-http-")
    path = os.path.join(directory, "api.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a socket file nobody listens on, as left by a crash
    stale.close()
    instance = ApiInstance(required_env("DATABASE_URL"), threads=2, socket_path=path)
    try:
        assert fastcgi_client.request(path, "/health").status == 200
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o666)  # nginx workers run as another user
    finally:
        instance.terminate()
        instance.close()


def test_help_documents_the_environment_and_unknown_arguments_exit_2():
    result = run_api({"DATABASE_URL": None}, arguments=["--help"])
    assert result.returncode == 0
    for name in ("DATABASE_URL", "FCGI_LISTEN", "API_THREADS", "DB_POOL_SIZE", "STATEMENT_TIMEOUT_MS"):
        assert name in result.stdout
    result = run_api({"DATABASE_URL": required_env("DATABASE_URL")}, arguments=["--port=9"])
    assert result.returncode == 2
    assert "--port=9" in result.stderr
