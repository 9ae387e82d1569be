"""Debian's nginx as a caching reverse proxy on a free loopback port, for the tests of
`cacheable_html`: `with NginxCache(upstream_port) as url:` (a temporary prefix holds its
config, cache, logs and pid; stopped and removed on exit).

Each response says what the cache did in `X-Cache-Status` (MISS, HIT, REVALIDATED...).
Missing nginx skips the test, and fails it under the `CI` environment variable.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

NGINX = Path("/usr/sbin/nginx")

CONFIG = """
user {user} {group};
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format cache '$upstream_cache_status $status $request_uri';
    access_log {prefix}/access.log cache;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=pages:4m max_size=64m
                     inactive=10m use_temp_path=off;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_cache pages;
            proxy_cache_key $scheme$host$request_uri;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""


def require_nginx() -> None:
    if NGINX.exists():
        return
    reason = f"{NGINX} is missing (apt-get install nginx)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}: the shared-cache tests must run in CI")
    pytest.skip(reason=reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class NginxCache:
    """nginx with proxy_cache in front of 127.0.0.1:`upstream`."""

    def __init__(self, upstream: int) -> None:
        require_nginx()
        self._prefix = Path(tempfile.mkdtemp(prefix="asgi-consent-nginx-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._config = self._prefix / "nginx.conf"
        self._config.write_text(
            CONFIG.format(
                prefix=self._prefix,
                upstream=upstream,
                port=self.port,
                # Workers run as this user, so they can write the cache in our folder.
                user=pwd.getpwuid(os.geteuid()).pw_name,
                group=grp.getgrgid(os.getegid()).gr_name,
            )
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [str(NGINX), "-p", str(self._prefix), "-c", str(self._config), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            if self._process.poll() is not None:
                errors = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"nginx did not start: {errors}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen on 127.0.0.1") from None
                time.sleep(0.02)

    def log(self) -> str:
        """The access log so far: a line a request, "<cache status> <status> <uri>"."""
        path = self._prefix / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGQUIT)  # graceful: workers finish and go
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
        shutil.rmtree(self._prefix, ignore_errors=True)

    def __enter__(self) -> str:
        self.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.stop()
