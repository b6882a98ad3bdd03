"""Home and product pages served in-process, as ratios against a minimal Django view timed in the same run.

Sets up its own SQLite database in a temporary directory with the demo data, then times the Django test client
(no network, no server): the ratios show what the pages' queries and templates cost on top of Django's own request
handling. Prints `BENCH pages …` at the end. Usage: .venv/bin/python bench/pages.py [--seconds 3]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on each page (default 3)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="socialbiz-bench-")
    os.environ.update(DEBUG="true", VAR_DIR=tmp.name, DJANGO_SETTINGS_MODULE="socialbiz.settings")
    Path(tmp.name, "static").mkdir()  # whitenoise warns about a missing STATIC_ROOT
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115 - discarded output

    from products.models import Product

    product_url = Product.objects.public().select_related("supplier").first().get_absolute_url()

    def minimal(request):  # the baseline: a view that does nothing
        return HttpResponse("ok")

    urlconf = type(sys)("bench_urls")
    urlconf.urlpatterns = [path("__minimal__", minimal), path("", include(settings.ROOT_URLCONF))]
    sys.modules["bench_urls"] = urlconf

    results: dict[str, float] = {}
    queries: dict[str, int] = {}
    with override_settings(ROOT_URLCONF="bench_urls", DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        for name, url in [("minimal", "/__minimal__"), ("home", "/"), ("product", product_url)]:
            assert client.get(url).status_code == 200, url
            with override_settings(DEBUG=True):
                reset_queries()
                client.get(url)
                queries[name] = len(connection.queries)
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < args.seconds:
                client.get(url)
                count += 1
            results[name] = count / elapsed
            print(f"{name:8} {results[name]:8.0f} requests/s  {queries[name]} queries")
    tmp.cleanup()
    print(
        "BENCH pages "
        f"ratio_home={results['home'] / results['minimal']:.3f} "
        f"ratio_product={results['product'] / results['minimal']:.3f} "
        f"queries_home={queries['home']} queries_product={queries['product']} "
        f"minimal_rps={results['minimal']:.0f}"
    )


if __name__ == "__main__":
    main()
