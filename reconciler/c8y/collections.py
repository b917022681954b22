"""Reading a paged collection of the tenant (managed objects, operations, registrations) to its end.

Pages of up to 2000 (the tenant's limit), `currentPage` counted up until a page comes back short or
empty, or `statistics.totalPages` (asked for with withTotalPages) is reached. A tenant that keeps
sending full pages is stopped at MAX_PAGES rather than followed for ever.
"""

from __future__ import annotations

from typing import Callable, Iterator

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.admin import AdminClient, failed_answer

MAX_PAGE_SIZE = 2000
MAX_PAGES = 5000  # 10 million items at 2000 a page
MAX_PAGE_BYTES = 64 * 1024 * 1024  # 2000 managed objects of up to 32 KiB each
JSON_ACCEPT = {"Accept": "application/json"}

# called after each page: (pages read, total pages or None, items so far)
PageReport = Callable[[int, "int | None", int], None]


def _total_pages(statistics) -> int | None:
    value = statistics.get("totalPages") if isinstance(statistics, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PAGES else None


def read_page(admin: AdminClient, path: str, key: str, params: dict, what: str) -> tuple[list[dict], int | None]:
    """One page: its items (mappings only; anything else in the list is skipped) and totalPages if told."""
    answer = admin.request("GET", path, params=params, headers=JSON_ACCEPT, limit=MAX_PAGE_BYTES)
    if answer.status == 400:
        raise TenantRefused(f"the tenant refused the {what} query (400): {answer.tenant_message()}")
    if not 200 <= answer.status < 300:
        raise failed_answer(answer, f"the list of {what}")
    data = answer.json_object()
    items = data.get(key) if data is not None else None
    if not isinstance(items, list):
        raise TenantRefused(f"the tenant's answer listing {what} has no {key} list")
    return [item for item in items if isinstance(item, dict)], _total_pages(data.get("statistics"))


def read_all(admin: AdminClient, path: str, key: str, params: dict | None = None, *, what: str,
             page_size: int = MAX_PAGE_SIZE, on_page: PageReport | None = None) -> Iterator[dict]:
    """Every item of the collection, page after page, in the tenant's order."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    seen, total = 0, None
    for number in range(1, MAX_PAGES + 1):
        query = {**(params or {}), "pageSize": page_size, "currentPage": number, "withTotalPages": "true"}
        items, told = read_page(admin, path, key, query, what)
        total = told if told is not None else total
        seen += len(items)
        if on_page:
            on_page(number, total, seen)
        yield from items
        if len(items) < page_size or (total is not None and number >= total):
            return
    raise TenantRefused(f"the tenant kept sending full pages of {what} past {MAX_PAGES} pages; stopped")
