"""The resolver gives the same answer under `manage.py runserver` as under gunicorn: real processes, real sockets.

Both read the request path as the client sent it (gunicorn's RAW_URI, set by the project's runserver command too), so
a %2F inside a lot stays apart from the path's slashes. The servers share a temporary SQLite database with one
public product and two lots, one of them with a "/".
"""

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.socialbiz.processes import environment, free_port, running, wait_for

GTIN = "09521000100015"
SETUP = f"""
from tests.products.factories import BatchFactory, public_product
product = public_product(gtin="{GTIN}")
BatchFactory(product=product, lot="CH26-0212")
BatchFactory(product=product, lot="SH26/014")
"""
PATHS = [
    f"/01/{GTIN}/10/CH26-0212",
    f"/01/{GTIN}/10/CH26-0212%2F",  # the lot "CH26-0212/": no such lot
    f"/01/{GTIN}/10/CH26-0212/foo",  # an extra segment
    f"/01/{GTIN}/10/CH26-0212/",  # a trailing slash, tolerated
    f"/01/{GTIN}/10/SH26%2F014",  # a lot with a "/" that exists
    f"/01/{GTIN}/10/SH26%2F014/21/S%2F1",
    f"/01/{GTIN}/10/SH26%2F014/qr.svg",
    f"/01/{GTIN}/10/CH26-0212?17=261231",  # a data attribute
    f"/01/{GTIN}/10/CH26-0212?10=ABC",  # a key qualifier outside the path
    f"/01/{GTIN}/10/CH26-0212?99=",
]


def ask(port: int, path: str) -> tuple[int, str]:
    """Status and Location (without the server's own address) of a GET sent exactly as written."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)  # http.client sends the path untouched: %2F stays %2F
        response = connection.getresponse()
        response.read()
        return response.status, (response.getheader("Location") or "").replace(f"http://127.0.0.1:{port}", "")
    finally:
        connection.close()


def healthy(port: int) -> bool:
    try:
        return ask(port, "/healthz")[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """runserver and gunicorn on free loopback ports, on one temporary SQLite database with the lots above."""
    tmp: Path = tmp_path_factory.mktemp("servers")
    env = environment(DEBUG="true", DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}", RESOLVER_ROOT="https://id.example")
    env.pop("REDIS_URL", None)
    for name, args in [
        ("migrate", ["python", "manage.py", "migrate", "--noinput"]),
        ("setup", ["python", "manage.py", "shell", "-c", SETUP]),
    ]:
        with running(args, env, tmp / f"{name}.log") as process:
            assert process.wait(timeout=300) == 0, (tmp / f"{name}.log").read_text()
    ports = {"runserver": free_port(), "gunicorn": free_port()}
    commands = {
        "runserver": ["python", "manage.py", "runserver", f"127.0.0.1:{ports['runserver']}", "--noreload"],
        "gunicorn": ["gunicorn", "socialbiz.wsgi:application", "--bind", f"127.0.0.1:{ports['gunicorn']}"],
    }
    logs = [tmp / "runserver.log", tmp / "gunicorn.log"]
    with running(commands["runserver"], env, logs[0]), running(commands["gunicorn"], env, logs[1]):
        for name, port in ports.items():
            wait_for(lambda port=port: healthy(port), seconds=90, what=name, logs=logs)
        yield ports


def test_runserver_and_gunicorn_answer_every_link_alike(servers):
    answers = {name: [ask(port, path) for path in PATHS] for name, port in servers.items()}
    assert answers["runserver"] == answers["gunicorn"]
    by_path = dict(zip(PATHS, answers["gunicorn"], strict=True))
    page = by_path[PATHS[0]][1]
    assert page.startswith("/batches/")
    assert by_path[f"/01/{GTIN}/10/CH26-0212%2F"] == (404, "")
    assert by_path[f"/01/{GTIN}/10/CH26-0212/foo"] == (400, "")
    assert by_path[f"/01/{GTIN}/10/CH26-0212/"] == (307, page)
    status, slashed_page = by_path[f"/01/{GTIN}/10/SH26%2F014"]
    assert status == 307
    assert slashed_page.startswith("/batches/")
    assert slashed_page != page
    assert by_path[f"/01/{GTIN}/10/SH26%2F014/21/S%2F1"] == (307, slashed_page + "?serial=S%2F1")
    assert by_path[f"/01/{GTIN}/10/SH26%2F014/qr.svg"] == (200, "")
    assert by_path[f"/01/{GTIN}/10/CH26-0212?17=261231"] == (307, page + "?17=261231")
    assert by_path[f"/01/{GTIN}/10/CH26-0212?10=ABC"] == (400, "")
    assert by_path[f"/01/{GTIN}/10/CH26-0212?99="] == (400, "")


def test_runserver_serves_static_files_through_whitenoise(servers):
    # The project's runserver wraps whitenoise's, which leaves static files to the whitenoise middleware.
    status, _ = ask(servers["runserver"], "/static/admin/css/base.css")
    assert status == 200
