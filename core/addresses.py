"""Where a request came from, as a keyed hash: enough to count what one address does (the abuse limits), never the
address itself, which is personal data the platform has no need to keep.

The address is the one django-axes works out for the login throttle (PROXY_COUNT proxies in front are trusted); the
hash is an HMAC under SECRET_KEY, so it cannot be reversed by hashing every IPv4 address.
"""

import hashlib
import hmac
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings


def address_key(ip: str) -> str:
    """The keyed hash of an IP address (empty for none)."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"address:{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def client_address(request: Any) -> str:
    """The keyed hash of the address a request came from."""
    return address_key(get_client_ip_address(request) or "")
