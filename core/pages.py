"""Pages cached until something they show changes, and rendered again before anyone asks.

A page (or a part of one) is named by a kind and an id: `("batch", 12)`, `("batch-trace", 12)`,
`("product-page", "kakao/bar-70")`. Apps say which of their rows appear on which pages with `shows(Model, …)`: a
function from a row to *roots*, `(kind, value)` pairs that are either pages or things `expands` turns into more
roots — `("product", 5)` into the product's page and its batches, `("identifiers", …)` (provenance) into the batches
whose lineage passes through them, with one lineage query for a whole transaction. Later apps add their own rows the
same way: a review appears on `("batch", id)`, a recall notice on it too, as a safety change.

A write's roots are collected per transaction (signals), and when it commits:
1. at once, in the committing process, the pages they reach are marked stale in the cache (a new random token per
   page: a page is served as fresh only if it was stored under the current token, so a token lost with the cache
   can never bring back an old page); safety changes also record the time (`hard`) before which no copy may be
   served even stale;
2. an outbox message, written in the same transaction, runs `refresh` in a worker: the same marking again (in case
   the committing process died or the cache was unreachable), then a new render of every marked page that is in
   the cache — the pages people have asked for in the last PAGE_CACHE_SECONDS — so the next visitor finds it warm.

The stale rule (`serve`): while its new render is on its way, a stale copy is served only if (a) it is from today
(evidence runs out at midnight), (b) it was rendered after the page's last safety change — a recall, a suspension,
revoked evidence or a changed risk is never served stale — and (c) what it shows has been out of date for at most
PAGE_STALE_SECONDS (the first change it does not show is that recent). Otherwise the visitor's request renders the
page. Parts of pages (fragments) are never served stale: a page is stored under its own token, and a stale part
inside a fresh-looking page would outlive the rule.

Every cache operation may fail (Redis down): that is a miss, never an error page, and the cache is left alone for a
few seconds so an outage costs one timeout now and then. `PAGE_CACHE_SECONDS = 0` turns page caching off.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.utils import timezone

logger = logging.getLogger(__name__)

Root = tuple[str, Hashable]
PageId = tuple[str, Hashable]
RETRY_AFTER_SECONDS = 5.0
PREFIX = "pages"
_cache_down_until = 0.0

T = TypeVar("T")


# --- what each app declares ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A rendered page or part: its HTML and any data the page around it needs (JSON-serialisable)."""

    html: str
    data: Any = None


@dataclass(frozen=True)
class _Kind:
    render: Callable[[Any], Rendered | None]
    seconds: Callable[[], int]


_kinds: dict[str, _Kind] = {}
_expanders: dict[str, list[Callable[[set[Any]], Iterable[Root]]]] = defaultdict(list)
_shown: dict[type[models.Model], _Shown] = {}


@dataclass(frozen=True)
class _Shown:
    roots: Callable[[Any], Iterable[Root]]
    changes: Callable[[Any, Any], Iterable[Root]]
    safety: Callable[[Any, Any], bool]
    previous: bool


def renders(kind: str, *, seconds: Callable[[], int]) -> Callable[[Callable[[Any], Rendered | None]], Any]:
    """Register the function that renders pages of `kind` from their id (None: there is no such page), kept for
    `seconds()` (0: not cached)."""

    def register(render: Callable[[Any], Rendered | None]) -> Callable[[Any], Rendered | None]:
        _kinds[kind] = _Kind(render, seconds)
        return render

    return register


def expands(kind: str) -> Callable[[Callable[[set[Any]], Iterable[Root]]], Any]:
    """Register a function from a set of values of a root kind to the roots (pages or more roots) they reach."""

    def register(expand: Callable[[set[Any]], Iterable[Root]]) -> Callable[[set[Any]], Iterable[Root]]:
        _expanders[kind].append(expand)
        return expand

    return register


def shows(
    model: type[models.Model],
    *,
    roots: Callable[[Any], Iterable[Root]],
    changes: Callable[[Any, Any], Iterable[Root]] | None = None,
    safety: Callable[[Any, Any], bool] | None = None,
    previous: bool = False,
) -> None:
    """Declare that rows of `model` appear on the pages `roots(row)` reaches.

    `changes(row, before)` gives the roots a save reaches beyond the row's own: pages that show what a change of
    some field means (a new lot is another lineage); `safety(row, before)` says whether a save is safety news.
    `before` is the stored row when `previous` is set, else None; with `previous`, the stored row's roots count
    too (a batch moved to another product changes both products' pages): one query per save. Deleting a row is
    always safety news. Many-to-many fields of the model are followed too: a link added or removed changes the
    pages of the row it was added to.
    """
    _shown[model] = _Shown(roots, changes or (lambda row, before: ()), safety or (lambda row, before: False), previous)
    label = model._meta.label
    post_save.connect(_saved, sender=model, dispatch_uid=f"pages-save-{label}", weak=False)
    pre_delete.connect(_deleting, sender=model, dispatch_uid=f"pages-delete-{label}", weak=False)
    if previous:
        pre_save.connect(_saving, sender=model, dispatch_uid=f"pages-previous-{label}", weak=False)
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        assert through is not None
        m2m_changed.connect(_linked, sender=through, dispatch_uid=f"pages-m2m-{through._meta.label}", weak=False)


def _saving(sender: type[models.Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None or instance._state.adding:
        instance._pages_before = None
        return
    instance._pages_before = sender._default_manager.filter(pk=instance.pk).first()


def _saved(
    sender: type[models.Model], instance: Any, raw: bool = False, using: str = DEFAULT_DB_ALIAS, **kw: Any
) -> None:
    if raw:  # loaddata
        return
    shown = _shown[sender]
    before = getattr(instance, "_pages_before", None) if shown.previous else None
    found = set(shown.roots(instance)) | set(shown.changes(instance, before))
    if before is not None:
        found |= set(shown.roots(before))
    changed(found, safety=shown.safety(instance, before), using=using)


def _deleting(sender: type[models.Model], instance: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    changed(set(_shown[sender].roots(instance)), safety=True, using=using)


def _linked(sender: Any, instance: Any, action: str, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    # Before and after the change: the row's roots then include the links removed and the links added.
    shown = _shown.get(type(instance))
    if shown is not None and action in ("pre_add", "post_add", "pre_remove", "post_remove", "pre_clear", "post_clear"):
        changed(set(shown.roots(instance)), safety=False, using=using)


# --- collecting a transaction's changes ----------------------------------------------------------------------------


@dataclass
class _Changes:
    """The roots a transaction changed. Only the on_commit callback holds it strongly: when the transaction rolls
    back, Django drops the callback, this object goes with it, and the next write starts a fresh one."""

    using: str
    roots: set[Root] = field(default_factory=set)
    safety: set[Root] = field(default_factory=set)
    message_id: int | None = None

    def args(self) -> list[Any]:
        return [sorted(map(list, self.roots), key=repr), sorted(map(list, self.safety), key=repr)]

    def committed(self) -> None:
        from core.models import OutboxMessage

        soft, hard, marked = mark(self.roots, self.safety)
        if marked and self.message_id is not None:
            # The worker need not find the pages again, nor mark them: it renders them. (Should this process die
            # before this line, the message keeps the roots, and the worker does both.)
            args = [sorted(map(list, soft), key=repr), sorted(map(list, hard), key=repr)]
            OutboxMessage.objects.using(self.using).filter(pk=self.message_id).update(
                args=args, kwargs={"marked": True}
            )


_pending = threading.local()


def changed(roots: Iterable[Root], *, safety: bool = False, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record that the pages reached from `roots` change when the current transaction commits."""
    from core import outbox
    from core.models import OutboxMessage

    roots = set(roots)
    if not roots:
        return
    if not transaction.get_connection(using).in_atomic_block:  # autocommit: the write is already committed
        with transaction.atomic(using=using):
            changed(roots, safety=safety, using=using)
        return
    ref = getattr(_pending, using, None)
    changes = ref() if ref is not None else None
    fresh = changes is None
    if changes is None:
        changes = _Changes(using)
        transaction.on_commit(changes.committed, using=using, robust=True)
        setattr(_pending, using, weakref.ref(changes))
    target = changes.safety if safety else changes.roots
    if roots <= target and not fresh:
        return
    target |= roots
    if safety:
        changes.roots -= changes.safety
    if changes.message_id is None:
        from core import tasks

        changes.message_id = outbox.enqueue(tasks.pages_refresh, *changes.args()).pk
    else:
        OutboxMessage.objects.using(using).filter(pk=changes.message_id).update(args=changes.args())


# --- from roots to pages ------------------------------------------------------------------------------------------


def as_root(pair: Iterable[Any]) -> Root:
    """A root from a pair: what the outbox's JSON gives back as a list."""
    kind, value = pair
    return str(kind), value


def pages_of(roots: Iterable[Root]) -> set[PageId]:
    """The pages reached from `roots`: every root expanded (breadth first, each kind once per round) until only
    pages are left."""
    seen: set[Root] = set()
    todo = {as_root(root) for root in roots}
    pages: set[PageId] = set()
    while todo:
        todo -= seen
        seen |= todo
        by_kind: dict[str, set[Any]] = defaultdict(set)
        for kind, value in todo:
            by_kind[kind].add(value)
            if kind in _kinds:
                pages.add((kind, value))
        todo = set()
        for kind, values in by_kind.items():
            for expand in _expanders.get(kind, ()):
                todo |= {as_root(root) for root in expand(values)}
    return pages


# --- the cache ----------------------------------------------------------------------------------------------------


def _safely(operation: Callable[..., T], *args: Any) -> T | None:
    """Run a cache operation; None if the cache fails (and then skip it for a few seconds)."""
    global _cache_down_until
    if time.monotonic() < _cache_down_until:
        return None
    try:
        return operation(*args)
    except Exception:
        _cache_down_until = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning("Page cache unavailable; serving pages uncached for %ss.", RETRY_AFTER_SECONDS, exc_info=True)
        return None


def _key(page: PageId, part: str = "") -> str:
    kind, value = page
    return f"{PREFIX}:{kind}:{value}{':' + part if part else ''}"


def enabled(kind: str) -> bool:
    return kind in _kinds and _kinds[kind].seconds() > 0


def mark(roots: Iterable[Root], safety: Iterable[Root] = ()) -> tuple[set[PageId], set[PageId], bool]:
    """Mark the pages reached from `roots` stale, and those reached from `safety` stale and never to be served
    from an older copy; returns (pages, safety pages, whether the cache took the marks)."""
    safety = set(safety)
    hard = pages_of(safety) if safety else set()
    soft = (pages_of(set(roots) - safety) if roots else set()) - hard
    return soft, hard, _mark_pages(soft, hard)


def _mark_pages(soft: set[PageId], hard: set[PageId]) -> bool:
    pages = soft | hard
    if not pages:
        return True
    now = time.time()
    keep = max((kind.seconds() for kind in _kinds.values()), default=0) * 2 or 3600
    tokens = {_key(page, "token"): uuid.uuid4().hex for page in pages}
    if _safely(cache.set_many, tokens, keep) is None:
        return False
    since_keys = [_key(page, "since") for page in soft]
    since = _safely(cache.get_many, since_keys) if since_keys else {}
    if since is None:
        return False
    new_since = {key: now for key in since_keys if key not in since}
    stamps = new_since | {_key(page, "hard"): now for page in hard}
    return not stamps or _safely(cache.set_many, stamps, keep) is not None


@dataclass(frozen=True)
class Served:
    rendered: Rendered
    state: str  # hit, stale, miss (rendered now), off (not cached)


def serve(page: PageId, *, render: Callable[[], Rendered | None], allow_stale: bool = True) -> Served | None:
    """A page from the cache when it may be served (see the stale rule above), else rendered now and stored;
    None when there is no such page."""
    kind = _kinds[page[0]]
    if kind.seconds() <= 0:
        rendered = render()
        return Served(rendered, "off") if rendered is not None else None
    keys = [_key(page), _key(page, "token"), _key(page, "since"), _key(page, "hard")]
    found = _safely(cache.get_many, keys)
    if found is None:  # the cache is down
        rendered = render()
        return Served(rendered, "off") if rendered is not None else None
    entry, token, since, hard = (found.get(key) for key in keys)
    today = timezone.localdate().isoformat()
    if entry is not None and entry["day"] == today:
        if token is not None and entry["token"] == token:
            return Served(Rendered(entry["html"], entry["data"]), "hit")
        if (
            allow_stale
            and since is not None
            and time.time() - since <= settings.PAGE_STALE_SECONDS
            and (hard is None or entry["at"] >= hard)
        ):
            return Served(Rendered(entry["html"], entry["data"]), "stale")
    rendered = _render_and_store(page, kind, render, token=token, since=since)
    return Served(rendered, "miss") if rendered is not None else None


def _render_and_store(
    page: PageId, kind: _Kind, render: Callable[[], Rendered | None], *, token: str | None, since: Any
) -> Rendered | None:
    if token is None:
        fresh = uuid.uuid4().hex
        added = _safely(cache.add, _key(page, "token"), fresh, kind.seconds() * 2)
        token = fresh if added else _safely(cache.get, _key(page, "token"))
    started = time.time()  # before reading anything: a change committed after this makes the copy stale
    rendered = render()
    if rendered is None or token is None:
        return rendered
    entry = {"token": token, "at": started, "day": timezone.localdate().isoformat(), "html": rendered.html}
    _safely(cache.set, _key(page), entry | {"data": rendered.data}, kind.seconds())
    if since is not None and _safely(cache.get, _key(page, "token")) == token:
        _safely(cache.delete, _key(page, "since"))  # shown now: the next change starts a new stale period
    return rendered


def refresh(roots: Iterable[Root], safety: Iterable[Root] = (), *, marked: bool = False) -> int:
    """Mark the pages reached stale and render anew those that are in the cache, up to PAGE_RENDER_AHEAD_MAX of
    them: what the outbox runs after a commit. `marked`: the committing process has marked them, and `roots` and
    `safety` are the pages themselves. Returns the number rendered."""
    if marked:
        soft, hard = set(map(as_root, roots)), set(map(as_root, safety))
    else:
        soft, hard, _ = mark(roots, safety)
    pages = sorted(soft | hard, key=repr)
    if not settings.PAGE_RENDER_AHEAD or not pages:
        return 0
    cached = _safely(cache.get_many, [_key(page) for page in pages]) or {}
    wanted = [page for page in pages if _key(page) in cached][: settings.PAGE_RENDER_AHEAD_MAX]
    rendered = 0
    for page in wanted:
        # Rendering a page may have rendered and stored one of its parts already: those are current now.
        found = _safely(cache.get_many, [_key(page), _key(page, "token")]) or {}
        entry, token = found.get(_key(page)), found.get(_key(page, "token"))
        if entry is not None and token is not None and entry["token"] == token:
            continue
        kind = _kinds[page[0]]
        _render_and_store(page, kind, partial(kind.render, page[1]), token=token, since=True)
        rendered += 1
    return rendered
