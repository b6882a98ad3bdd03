"""Throw-away PostgreSQL databases for benchmarks, on the server DATABASE_URL names."""

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
