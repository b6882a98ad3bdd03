"""The supplier's calendar: which days it can hand orders over, and the deadlines an order on such a day gets.

Times are in the platform's time zone (TIME_ZONE). A day is offered when an active window of the method (at the
facility, for a pick-up) falls on it, the supplier is not closed, and the window's cut-off is still ahead.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from purchases.models import Closure, Method, Window
from purchases.refusals import OrderRefused


@dataclass(frozen=True)
class Slot:
    window: Window | None
    changeable_until: datetime  # the buyer may change or cancel until then
    dispatch_by: datetime  # ready or dispatched by then, else cancelled
    settle_by: datetime  # the latest the credits are paid without the buyer's confirmation


def _at(day: date, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


def window_start(window: Window, day: date) -> datetime:
    return _at(day, window.starts_at)


def window_end(window: Window, day: date) -> datetime:
    return _at(day, window.ends_at)


def cutoff(window: Window, day: date) -> datetime:
    return window_start(window, day) - timedelta(hours=window.cutoff_hours)


def _windows(supplier_id: int, method: str, facility_id: int | None) -> list[Window]:
    windows = Window.objects.filter(supplier_id=supplier_id, method=method, active=True)
    if method == Method.PICKUP:
        if facility_id is None:
            return []
        windows = windows.filter(facility_id=facility_id)
    return list(windows.order_by("weekday", "starts_at"))


def is_pickup_point(*, supplier_id: int, facility_id: int) -> bool:
    return Window.objects.filter(
        supplier_id=supplier_id, method=Method.PICKUP, facility_id=facility_id, active=True
    ).exists()


def pickup_points(supplier_id: int) -> list[int]:
    return sorted(
        set(
            Window.objects.filter(supplier_id=supplier_id, method=Method.PICKUP, active=True).values_list(
                "facility_id", flat=True
            )
        )
    )


def _offered(windows: list[Window], closed: set[date], now: datetime) -> list[tuple[date, Window]]:
    today = timezone.localdate(now)
    offered = []
    for offset in range(settings.PURCHASES_CALENDAR_DAYS + 1):
        day = today + timedelta(days=offset)
        if day in closed:
            continue
        for window in windows:
            if window.weekday == day.weekday() and cutoff(window, day) > now:
                offered.append((day, window))
    return offered


def _closed(supplier_id: int, now: datetime) -> set[date]:
    today = timezone.localdate(now)
    last = today + timedelta(days=settings.PURCHASES_CALENDAR_DAYS)
    return set(Closure.objects.filter(supplier_id=supplier_id, day__range=(today, last)).values_list("day", flat=True))


def days_offered(
    *, supplier_id: int, method: str, facility_id: int | None = None, now: datetime | None = None
) -> list[tuple[date, Window]]:
    """Every (day, window) an order placed now can be scheduled for, soonest first, within PURCHASES_CALENDAR_DAYS."""
    now = now or timezone.now()
    windows = _windows(supplier_id, method, facility_id)
    return _offered(windows, _closed(supplier_id, now), now) if windows else []


def offered_by_place(*, supplier_id: int, now: datetime | None = None) -> dict[tuple[str, int | None], list[date]]:
    """The days offered for each pick-up point (("pickup", facility id)) and for delivery (("delivery", None)), in two
    queries whatever the number of windows."""
    now = now or timezone.now()
    windows = list(Window.objects.filter(supplier_id=supplier_id, active=True).order_by("weekday", "starts_at"))
    if not windows:
        return {}
    closed = _closed(supplier_id, now)
    offered: dict[tuple[str, int | None], list[date]] = {}
    for day, window in _offered(windows, closed, now):
        place = (window.method, window.facility_id if window.method == Method.PICKUP else None)
        days = offered.setdefault(place, [])
        if day not in days:
            days.append(day)
    return offered


def slot_for(
    *, supplier_id: int, method: str, facility_id: int | None, day: date | None, now: datetime, dispatch_hours: int
) -> Slot:
    """The deadlines of an order for `day` (None: as soon as possible); refuses a day the calendar does not offer."""
    confirm = timedelta(days=settings.PURCHASES_CONFIRM_DAYS)
    if day is None:
        dispatch_by = now + timedelta(hours=dispatch_hours)
        return Slot(window=None, changeable_until=dispatch_by, dispatch_by=dispatch_by, settle_by=dispatch_by + confirm)
    offered = days_offered(supplier_id=supplier_id, method=method, facility_id=facility_id, now=now)
    for offered_day, window in offered:
        if offered_day == day:
            end = window_end(window, day)
            return Slot(window=window, changeable_until=cutoff(window, day), dispatch_by=end, settle_by=end + confirm)
    what = "pick-up here" if method == Method.PICKUP else "delivery"
    if offered:
        soonest = ", ".join(f"{d:%a %d %b}" for d, _ in offered[:4])
        message = f"{day:%A %d %B %Y} is not offered for {what}; the next days are {soonest}."
    else:
        message = f"No day is offered for {what} at the moment; order for as soon as possible instead."
    raise OrderRefused({"date": message}, code="date_unavailable")


def days_by_window(windows: Iterable[Window], *, now: datetime | None = None) -> dict[int, list[date]]:
    """The days each window offers to an order placed now, soonest first (none for an inactive one): one query for
    the closures of all their suppliers, whatever the number of windows (the dashboard's list of windows)."""
    now = now or timezone.now()
    windows = list(windows)
    today = timezone.localdate(now)
    last = today + timedelta(days=settings.PURCHASES_CALENDAR_DAYS)
    closed: dict[int, set[date]] = {window.supplier_id: set() for window in windows}
    closures = Closure.objects.filter(supplier_id__in=list(closed), day__range=(today, last))
    for supplier_id, day in closures.values_list("supplier_id", "day"):
        closed[supplier_id].add(day)
    return {
        window.pk: [day for day, _ in _offered([window], closed[window.supplier_id], now)] if window.active else []
        for window in windows
    }
