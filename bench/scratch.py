"""Throw-away databases for benchmarks: a PostgreSQL one on the server DATABASE_URL names, or a temporary SQLite
file; and the embedded environment the in-process benchmarks run Django in."""

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _on_server(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def create_database(server_url: str, name: str) -> str:
    """(Re)create database `name` on the server of `server_url`; return its URL."""
    _on_server(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _on_server(server_url, f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def drop_database(server_url: str, name: str) -> None:
    _on_server(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def embedded(name: str) -> Iterator[str]:
    """Settings for a benchmark that runs Django in its own process: DEBUG, a temporary VAR_DIR (with its static
    folder), no Redis, and database `name` on DATABASE_URL's server when it is set (else SQLite in VAR_DIR), dropped
    at the end. Yields the database's vendor, `postgresql` or `sqlite`."""
    server_url = os.environ.get("DATABASE_URL", "")
    if server_url and not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"DATABASE_URL must be a PostgreSQL URL (or unset, for SQLite), not {urlsplit(server_url).scheme!r}")
    tmp = tempfile.TemporaryDirectory(prefix="socialbiz-bench-")
    os.environ.update(DEBUG="true", VAR_DIR=tmp.name, DJANGO_SETTINGS_MODULE="socialbiz.settings")
    Path(tmp.name, "static").mkdir()
    os.environ.pop("REDIS_URL", None)
    if server_url:
        os.environ["DATABASE_URL"] = create_database(server_url, name)
    try:
        yield "postgresql" if server_url else "sqlite"
    finally:
        if server_url:
            from django.db import connections

            connections.close_all()
            drop_database(server_url, name)
        tmp.cleanup()
