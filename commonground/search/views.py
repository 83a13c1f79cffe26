"""One search page over what the person may see. The query is read from the URL (a GET form,
so results can be bookmarked) but never logged or audited: access logs omit query strings."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from commonground.search import selectors

PAGE_SIZE = 20


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[: selectors.MAX_QUERY_LENGTH]
    kind = request.GET.get("type", "")
    if kind not in selectors.KINDS:
        kind = ""
    found = selectors.search_matches(request.user, query, kind=kind)
    page = Paginator(found.matches, PAGE_SIZE).get_page(request.GET.get("page"))
    hits = selectors.hits_for(list(page.object_list), query)
    params = {"q": query, **({"type": kind} if kind else {})}
    return render(
        request,
        "search/search.html",
        {
            "query": query,
            "kind": kind,
            "kinds": selectors.KINDS.items(),
            "page": page,
            "hits": hits,
            "capped": found.capped,
            "searched": bool(query),
            "page_query": urlencode(params),
        },
    )
