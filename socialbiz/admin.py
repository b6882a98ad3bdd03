"""The project's dashboard site: the library's DashboardSite, told how a person's access is worked out."""

from typing import Any

from core.access import Access
from core.dashboard import DashboardSite
from products.access import access_for


class SocialbizDashboard(DashboardSite):
    """Operators and supplier members; what each sees is their access from the catalog's memberships."""

    def access_for(self, user: Any) -> Access:
        return access_for(user)
