"""The GS1 Digital Link resolver's addresses, at the site's root (included by storefront/urls.py).

Everything under /01/ and /p/ goes to one view that parses the path itself: a path that breaks the Digital Link
syntax must get a 400 with the reason, which a URL pattern that simply failed to match (a 404) could not give.
"""

from django.urls import path, re_path

from storefront import resolver

urlpatterns = [
    path(".well-known/gs1resolver", resolver.description, name="gs1resolver"),
    re_path(r"^(?:01|p)(?:/[\s\S]*)?\Z", resolver.resolve, name="digital-link"),
]
