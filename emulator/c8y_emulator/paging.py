"""Cumulocity's paging of collections: pageSize (1 to 2000, default 5), currentPage (from 1),
withTotalPages / withTotalElements, and `next` / `prev` links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

MAX_PAGE_SIZE = 2000
DEFAULT_PAGE_SIZE = 5


class PagingError(ValueError):
    pass


def parameters(raw_path: str) -> dict[str, str]:
    """The query parameters of a request (the last value of a repeated one)."""
    parsed = parse_qs(urlsplit(raw_path).query, keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def _whole(params: dict, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        raise PagingError(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def page(items: list, params: dict, base_url: str, key: str) -> dict:
    """The collection document for one page of `items`."""
    size = _whole(params, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    current = _whole(params, "currentPage", 1, 1, 10**9)
    chosen = items[(current - 1) * size: current * size]
    statistics = {"currentPage": current, "pageSize": size}
    if params.get("withTotalPages") == "true":
        statistics["totalPages"] = max(1, -(-len(items) // size))
    if params.get("withTotalElements") == "true":
        statistics["totalElements"] = len(items)
    document = {key: chosen, "statistics": statistics, "self": f"{base_url}?{urlencode(params)}"}
    if len(chosen) == size:
        document["next"] = f"{base_url}?{urlencode({**params, 'currentPage': current + 1})}"
    if current > 1:
        document["prev"] = f"{base_url}?{urlencode({**params, 'currentPage': current - 1})}"
    return document
