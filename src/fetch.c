/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		  Fetching the pages of a scan: the first page of each chain and the
 *		  pages its next links lead to, requests started ahead of need, and
 *		  parsing a page into the arena.
 *
 * Requests for the next page, for the next chains' first pages and for
 * the call record list's next page (listing.c reads the list) are started
 * ahead, up to the scan's concurrency (pacing.c) of unanswered requests:
 * while the scan waits for one page, every answer that comes frees a slot
 * for the next request, and requests Graph's limits held back are sent as
 * soon as they fit, in the order they were asked for.  Only one page is
 * parsed at a time; its tree is built in the scan's arena (arena.c), from
 * the text pruned of what no column reads (prune.c), and dropped when the
 * next page is fetched.
 *
 * Rules kept here: every request says what it reads (a call record, the
 * list, a log function) when it is started, and ratelimit.c admits it
 * against the statement's budget and Graph's limits (a request that may
 * never be needed does not use up the last of the budget); a next link must stay on graph_url (the
 * bearer token goes with it) and must not repeat the link just followed;
 * text that pruning does not accept is parsed as Graph sent it, so errors
 * report positions in that text.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/fetch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "scan_int.h"

/* the most of the statement's budget a request started ahead leaves */
#define CR_PREFETCH_RESERVE 10

static bool link_seen(CrLinkCheck *chk, const char *url);

/*
 * What the requests of a chain read, for Graph's per-scope limits: the
 * call record of a chain by id (its next links too), the list, or the log
 * function.
 */
static CrRequestScope
chain_scope(CrScanState *st, const CrChain *c)
{
	CrRequestScope scope = {CR_SCOPE_OTHER, NULL};

	if (c && c->record_id)
	{
		scope.kind = CR_SCOPE_RECORD;
		scope.name = c->record_id;
	}
	else if (st->res->fetch == CR_FETCH_FUNCTION)
	{
		scope.kind = CR_SCOPE_FUNCTION;
		scope.name = st->res->function;
	}
	else if (c)
		scope.kind = CR_SCOPE_LIST;
	return scope;
}

/* Stop every request started ahead; their answers are not needed. */
void
cr_drop_prefetch(CrScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
		cr_fetch_free(lfirst(lc));
	list_free(st->prefetch);
	st->prefetch = NIL;
	st->next_prefetched = false;
}

/* The request for url if it was started ahead, taken off the list. */
static CrFetch *
take_prefetched(CrScanState *st, const char *url)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
	{
		CrFetch    *f = lfirst(lc);

		if (strcmp(cr_fetch_url(f), url) == 0)
		{
			st->prefetch = foreach_delete_current(st->prefetch, lc);
			return f;
		}
	}
	return NULL;
}

/*
 * The scan's requests not yet answered (held back by Graph's limits, or in
 * flight), the one it waits for included; notes the most in flight at
 * once for EXPLAIN ANALYZE.
 */
static int
outstanding(CrScanState *st)
{
	ListCell   *lc;
	int			n = st->waiting ? 1 : 0;
	int			flying = n;

	foreach(lc, st->prefetch)
	{
		CrFetchState state = cr_fetch_state(lfirst(lc));

		n += state != CR_FETCH_ANSWERED;
		flying += state == CR_FETCH_IN_FLIGHT;
	}
	st->stats.in_flight_peak = Max(st->stats.in_flight_peak, flying);
	return n;
}

/*
 * Start a request for url ahead of need, if the concurrency allows: fewer
 * than concurrency requests unanswered, so that a slot freed by any
 * answer is used at once (not only when the scan reaches it), and at most
 * concurrency answers kept unread.  Returns false when it did not (and
 * should not be tried again yet).
 */
static bool
prefetch_url(CrScanState *st, const char *url, CrRequestScope scope)
{
	MemoryContext old;
	ListCell   *lc;
	CrFetch    *f;
	bool		list_page = scope.kind == CR_SCOPE_LIST;

	foreach(lc, st->prefetch)
		if (strcmp(cr_fetch_url(lfirst(lc)), url) == 0)
			return true;
	if (list_length(st->prefetch) >= 2 * st->concurrency ||
		outstanding(st) >= st->concurrency)
		return false;
	/*
	 * A request that may never be needed leaves some of the budget for
	 * those that are: as many as are in flight, at most CR_PREFETCH_RESERVE
	 * (with 100 in flight, a scan of 950 requests in a budget of 1,000
	 * would otherwise make its last 50 one after another).
	 */
	old = MemoryContextSwitchTo(st->scan_cxt);
	f = cr_fetch_start(st->opts, url, &scope, Min(st->concurrency, CR_PREFETCH_RESERVE),
					   st->page_size_hint, st->share_responses, &st->stats);
	/* the list's next page is the first of the requests held back */
	if (f)
		st->prefetch = list_page ? lcons(f, st->prefetch) : lappend(st->prefetch, f);
	MemoryContextSwitchTo(old);
	return f != NULL;
}

/*
 * Ask ahead for the first pages of the chains (or listed call records)
 * that come next.  A fan-out first reads the call record list ahead
 * while fewer than CR_LIST_AHEAD of its ids are left to read, so that
 * there are always ids to send when Graph's windows have room (a list
 * page is a round trip, and each needs the one before); never under a
 * LIMIT, which may stop before them.
 */
static void
fill_chains(CrScanState *st)
{
	List	   *upcoming;
	int			i;

	/* the list's next page first, whatever else is in flight */
	while (st->fanout && st->list_link_ahead && !st->limited &&
		   list_length(st->list_ids) - st->chains_started < CR_LIST_AHEAD)
	{
		CrRequestScope list_scope = {CR_SCOPE_LIST, NULL};

		if (!prefetch_url(st, st->list_link, list_scope) || !cr_absorb_list_page(st))
			break;
	}
	upcoming = st->fanout ? st->list_ids : st->chains;
	for (i = Max(st->chains_started, st->chains_prefetched); i < list_length(upcoming); i++)
	{
		const char *path = st->fanout ?
			cr_record_path(st->opts, st->res, cr_url_escape_utf8(list_nth(upcoming, i)),
						   NULL, st->expand_segments) :
			((CrChain *) list_nth(upcoming, i))->path;
		CrRequestScope scope = {CR_SCOPE_RECORD, NULL};

		if (st->fanout)
			scope.name = list_nth(upcoming, i);
		else
			scope = chain_scope(st, list_nth(upcoming, i));
		if (!prefetch_url(st, psprintf("%s%s", st->opts->graph_url, path), scope))
			return;
		st->chains_prefetched = i + 1;
	}
}

/*
 * Keep requests in flight while rows are made: the first pages of the
 * chains (or listed call records) that come next, and the next page of
 * this chain.  Under a LIMIT the next page is asked for only once half of
 * the current one is used, so a query that stops early does not ask for
 * pages it never reads.
 */
void
cr_fill_prefetch(CrScanState *st)
{
	json_t	   *rows = st->arr[st->levels[0]];

	if (st->next_link && !st->next_prefetched && rows && st->page_size_hint == 0 &&
		(!st->limited || st->pos[st->levels[0]] + 1 >= (int64) json_array_size(rows) / 2))
	{
		st->next_prefetched = prefetch_url(st, st->next_link, chain_scope(st, st->chain));
	}
	fill_chains(st);
}

/*
 * Run while the scan waits for a page (http.c calls it when an answer has
 * come or when the time it asked for has): send the requests Graph's
 * limits held back once they fit, in the order they were asked for, then
 * use the free slots for the chains that come next.  Not the next page of
 * the chain, whose tree may be gone while its successor is fetched.
 * Returns the milliseconds until a held request may fit, or 0.
 */
static double
pump(void *arg)
{
	CrScanState *st = (CrScanState *) arg;
	ListCell   *lc;
	int			pass;

	cr_pacing_update(st);		/* the window may have room again */
	for (pass = 0; pass < 2; pass++)
	{
		foreach(lc, st->prefetch)
		{
			CrFetch    *f = lfirst(lc);
			double		delay;

			if (cr_fetch_state(f) == CR_FETCH_HELD && (delay = cr_fetch_try_begin(f)) > 0)
				return delay;
		}
		if (pass == 0)
			fill_chains(st);
	}
	(void) outstanding(st);
	return 0;
}

/*
 * The text of a page for jansson: without what the scan never reads (for
 * the shapes pruned) and with every number marked so that its text is
 * kept (prune.c); *graph_len is how much of Graph's text it holds.  NULL
 * to parse the page as it came: text the pass does not accept, which
 * jansson then reports.
 */
static char *
prune_page(CrScanState *st, CrPageShape shape, const CrResponse *resp, size_t *len,
		   size_t *graph_len)
{
	StringInfoData out;
	const CrPruneSpec *spec = shape == CR_PAGE_OTHER ? NULL : st->prune;
	int64		marked = 0;

	if (resp->body_len >= MaxAllocSize / 2)
		return NULL;
	out.data = palloc(resp->body_len + 1);
	out.maxlen = resp->body_len + 1;
	resetStringInfo(&out);
	if (cr_prune_page(spec, shape == CR_PAGE_RECORD ? CR_LEVEL_RECORD : st->levels[0],
					  shape == CR_PAGE_COLLECTION, resp->body, resp->body_len, &out,
					  &marked))
	{
		*len = out.len;
		*graph_len = out.len - marked;
		return out.data;
	}
	pfree(out.data);
	return NULL;
}

/*
 * Raise why the arena refused a page's tree: a cancel (serviced here), or
 * a tree past its bound (cr_arena_limit), which a page of Graph's shape
 * never reaches.
 */
static void
check_arena_refusal(CrJsonArena *arena, size_t body_len)
{
	if (arena->interrupted)
		CHECK_FOR_INTERRUPTS();
	if (arena->refused)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("Graph response of %zu bytes needs more than %zu bytes to parse",
						body_len, arena->limit),
				 errdetail("A page of Graph's shape needs a few times its size; this one is refused.")));
}

/*
 * GET a Graph URL (a path joined to graph_url, or a next link) and parse
 * its JSON object; the caller owns the tree, which is in arena when one
 * is given (pruned first by shape).  A request started ahead for the URL
 * is used if there is one.  Returns NULL for a 404 when allow_404 is set.
 */
json_t *
cr_fetch_json(CrScanState *st, const char *url, CrRequestScope scope, bool allow_404,
		   CrJsonArena *arena, CrPageShape shape)
{
	CrResponse	resp;
	json_error_t jerr;
	json_t	   *root;
	CrFetch    *f = take_prefetched(st, url);
	bool		was_waiting;

	if (f == NULL)
	{
		MemoryContext old;

		MemoryContextReset(st->page_cxt);
		old = MemoryContextSwitchTo(st->page_cxt);
		f = cr_fetch_start(st->opts, url, &scope, 0, st->page_size_hint,
						   st->share_responses, &st->stats);
		MemoryContextSwitchTo(old);
	}
	/* (the pump may read a list page ahead while the scan waits for this) */
	was_waiting = st->waiting;
	st->waiting = true;
	cr_fetch_wait(f, &resp, st->concurrency > 1 ? pump : NULL, st);
	st->waiting = was_waiting;
	cr_pacing_observe(st, &resp);

	if (resp.status == 404 && allow_404)
	{
		cr_fetch_free(f);
		return NULL;
	}
	if (resp.status != 200)
		cr_report_graph_error(&resp, url);

	if (arena)
	{
		CrAllocFuncs saved;
		size_t		pruned_len = 0;
		size_t		graph_len = 0;
		char	   *pruned = prune_page(st, shape, &resp, &pruned_len, &graph_len);

		/* a failure is reported with its position in the text Graph sent */
		cr_arena_limit(arena, resp.body_len);
		cr_arena_enter(arena, &saved);
		root = pruned ? json_loadb(pruned, pruned_len, JSON_ALLOW_NUL, &jerr) : NULL;
		if (root == NULL && !arena->refused && !arena->interrupted)
			root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		cr_arena_leave(&saved);
		if (root == NULL)
			check_arena_refusal(arena, resp.body_len);
		st->stats.parsed_bytes += root && pruned ? graph_len : resp.body_len;
		if (pruned)
			pfree(pruned);
	}
	else
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
	cr_fetch_free(f);			/* the body is parsed; drop it */
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("could not parse Graph response as JSON"),
				 errdetail("%s at line %d, column %d.", jerr.text, jerr.line, jerr.column)));
	if (!json_is_object(root))
	{
		if (arena == NULL)
			json_decref(root);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("Graph response is not a JSON object")));
	}
	st->stats.pages++;
	return root;
}

/*
 * Replace st->page by the answer to url, dropping the previous page first.
 * Returns false for a 404 when allow_404 is set.
 */
static bool
fetch_page(CrScanState *st, const char *url, CrRequestScope scope, bool allow_404,
		   CrPageShape shape)
{
	st->page = NULL;
	cr_arena_reset(&st->arena);
	st->page = cr_fetch_json(st, url, scope, allow_404, &st->arena, shape);
	return st->page != NULL;
}

/*
 * Begin the link checks of a chain whose first request is url.  Its next
 * links must stay in the collection that request reads (for a call record
 * with expanded children, the children's: …/callRecords/{id}/sessions);
 * the hashes of the pages asked for are kept to refuse a loop.
 */
void
cr_links_begin(CrScanState *st, CrLinkCheck *chk, const char *url, const char *child)
{
	char	   *coll = cr_url_collection(url);
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	HASHCTL		ctl;

	if (chk->collection)
		pfree(chk->collection);
	chk->collection = coll == NULL ? NULL :
		child ? psprintf("%s/%s", coll, child) : pstrdup(coll);
	MemoryContextSwitchTo(old);
	if (chk->seen)
		hash_destroy(chk->seen);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(uint64);
	ctl.hcxt = st->scan_cxt;
	chk->seen = hash_create("callrecords_fdw pages of a chain", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	(void) link_seen(chk, url);
}

/* Note url as asked for in the chain; whether it already was. */
static bool
link_seen(CrLinkCheck *chk, const char *url)
{
	uint64		h = hash_bytes_extended((const unsigned char *) url, strlen(url), 0);
	bool		found;

	(void) hash_search(chk->seen, &h, HASH_ENTER, &found);
	return found;
}

/*
 * The next link of a page as a string in the scan's context, after
 * checking that it points at the configured Graph host (the bearer token
 * goes with it), at the collection the chain reads (a link elsewhere, to
 * another record or /users, would put foreign rows under this record) and
 * at a page the chain has not asked for (a loop would never end).  NULL
 * when the page is the last.
 */
char *
cr_checked_next_link(CrScanState *st, json_t *link, CrLinkCheck *chk)
{
	const char *url;
	char	   *coll;

	if (link == NULL || json_is_null(link))
		return NULL;
	url = cr_json_string(link);
	if (url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph next link is not a string")));
	if (!cr_same_origin(st->opts->graph_url, url))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to another host"),
				 errdetail("Next links must stay on graph_url; the link was not requested.")));
	coll = cr_url_collection(url);
	if (coll == NULL || chk->collection == NULL || strcmp(coll, chk->collection) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to another collection"),
				 errdetail("The link leads to %s, not to more of %s; it was not requested.",
						   coll ? coll : "an unreadable path",
						   chk->collection ? chk->collection : "the collection asked for")));
	if (link_seen(chk, url))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to a page already read"),
				 errdetail("Paging would not end; the result would be incomplete.")));
	pfree(coll);
	return MemoryContextStrdup(st->scan_cxt, url);
}

/* Remember the next link of the row page. */
static void
set_next_link(CrScanState *st, json_t *link)
{
	char	   *prev = st->next_link;

	st->next_link = cr_checked_next_link(st, link, &st->chain_links);
	st->next_prefetched = false;
	if (prev)
		pfree(prev);
}

/*
 * Read the first page of a chain.  A call record of a child table is kept
 * (without its children) for the key columns of every later page.
 * Returns false if Graph does not know the call record.
 */
bool
cr_start_chain(CrScanState *st, CrChain *c)
{
	char	   *url = psprintf("%s%s", st->opts->graph_url, c->path);
	CrLevel		l = st->levels[0];

	/*
	 * A sessions scan asks for the sessions alone, but if another scan of
	 * the statement already has them with their segments, that answer
	 * serves too (its next links lead to more of the same).
	 */
	if (c->first == CR_FIRST_EXPANDED_RECORD && !st->expand_segments &&
		st->res->level == CR_LEVEL_SESSION)
	{
		char	   *full = psprintf("%s%s", st->opts->graph_url,
									cr_record_path(st->opts, st->res,
												   cr_url_escape_utf8(c->record_id),
												   NULL, true));

		if (cr_graph_cached(st->opts, full, st->page_size_hint))
			url = full;
	}

	cr_links_begin(st, &st->chain_links, url,
				c->first == CR_FIRST_EXPANDED_RECORD ? cr_child_key(l) : NULL);
	if (st->record)
		json_decref(st->record);
	st->record = NULL;
	st->chain = c;
	cr_leave_page(st);
	st->page_base = 0;

	if (!fetch_page(st, url, chain_scope(st, c), c->first != CR_FIRST_COLLECTION,
					c->first == CR_FIRST_EXPANDED_RECORD ? CR_PAGE_RECORD :
					c->first == CR_FIRST_COLLECTION ? CR_PAGE_COLLECTION : CR_PAGE_OTHER))
		return false;

	switch (c->first)
	{
		case CR_FIRST_EXPANDED_RECORD:
			{
				char		link_key[64];

				st->record = cr_without_children(st->page, CR_LEVEL_RECORD, true);
				if (!json_is_string(json_object_get(st->record, "id")))
					json_object_set_new(st->record, "id", json_string(c->record_id));
				cr_set_rows(st, json_object_get(st->page, cr_child_key(l)));
				snprintf(link_key, sizeof(link_key), "%s@odata.nextLink", cr_child_key(l));
				set_next_link(st, json_object_get(st->page, link_key));
				break;
			}
		case CR_FIRST_SINGLE:
			{
				/* the page becomes a one-element array holding the object */
				CrAllocFuncs saved;
				json_t	   *one;

				cr_arena_enter(&st->arena, &saved);
				one = json_array();
				if (one != NULL && json_array_append(one, st->page) != 0)
					one = NULL;
				cr_arena_leave(&saved);
				if (one == NULL)
					ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
				st->page = one;
				cr_set_rows(st, one);
				set_next_link(st, NULL);
				break;
			}
		case CR_FIRST_COLLECTION:
			cr_set_collection_rows(st);
			set_next_link(st, json_object_get(st->page, "@odata.nextLink"));
			break;
	}
	return true;
}

/*
 * Load the next page: the next link of the current chain, or the first
 * page of the next chain (or listed call record).  Returns false when
 * everything was read.
 */
bool
cr_next_page(CrScanState *st)
{
	char	   *url;

	while (st->next_link == NULL)
	{
		CrChain    *c;

		if (st->next_chain == NULL)
			return st->fanout && cr_next_listed_record(st);
		c = lfirst(st->next_chain);
		st->next_chain = lnext(st->chains, st->next_chain);
		st->chains_started++;
		if (cr_start_chain(st, c))
			return true;
	}

	url = pstrdup(st->next_link);
	cr_leave_page(st);
	fetch_page(st, url, chain_scope(st, st->chain), false, CR_PAGE_COLLECTION);
	cr_set_collection_rows(st);
	set_next_link(st, json_object_get(st->page, "@odata.nextLink"));
	pfree(url);
	return true;
}
