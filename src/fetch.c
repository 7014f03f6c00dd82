/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		  Fetching the pages of a scan: the first page of each chain and the
 *		  pages its next links lead to, requests started ahead of need, and
 *		  parsing a page into the arena.
 *
 * Requests for the next page, for the next chains' first pages and for
 * the call record list's next page are started ahead, up to the scan's
 * concurrency (pacing.c) of unanswered requests: while the scan waits for
 * one page, every answer that comes frees a slot for the next request, and
 * requests Graph's limits held back are sent as soon as they fit, in the
 * order they were asked for.  A page answered ahead has its next link
 * followed at once (found in its text without parsing it, and checked as
 * every link is), so the pages of a big meeting come as fast as those of
 * many small ones, not one after another when the scan reaches them.
 * A scan reading the call record list of a window that is between rows
 * (a cursor's) has its list read ahead while another scan of the backend
 * waits (the list readers), so that its pages do not wait for its next
 * fetch.  What answers ahead hold, waiting or still coming, stays within
 * the answers' part of the scan's memory budget (set_answers_limit): a
 * request starts only when the answers still to come, counted at the
 * size pacing.c expects, leave room for it.  Only one page is parsed at
 * a time; its tree is built in the scan's arena (arena.c), from the text
 * pruned of what no column reads (prune.c), and dropped when the next
 * page is fetched.
 *
 * The pipeline runs one way: scan.c asks this file for the next page
 * (cr_next_page) and hands it to rows.c; this file asks listing.c for the
 * next listed call record and hands it each list page it fetched, and
 * builds on chains.c's chains and link checks.  Neither of those calls
 * back up here.
 *
 * Rules kept here: every request says what it reads (a call record, the
 * list, a log function) when it is started, and ratelimit.c admits it
 * against the statement's budget and Graph's limits (a request that may
 * never be needed does not use up the last of the budget); every next
 * link, followed ahead or not, passes chains.c's checks before it is
 * asked for; text that pruning does not accept is parsed as Graph sent
 * it, so errors report positions in that text; another scan's wait
 * touches only a list reader's list pages, and a scan leaves the list
 * readers when it ends, starts over or its memory goes.
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
#include "miscadmin.h"
#include "utils/memutils.h"
#include "scan_int.h"

/* the most of the statement's budget a request started ahead leaves */
#define CR_PREFETCH_RESERVE 10

/* Where an answer ahead stands in following its next link. */
typedef enum CrAheadLink
{
	CR_LINK_UNKNOWN,			/* not looked for yet */
	CR_LINK_NONE,				/* none, or none to follow ahead */
	CR_LINK_FOUND,				/* checked, its request not started yet */
	CR_LINK_FOLLOWED			/* its request started */
} CrAheadLink;

/*
 * A request started ahead of need.  The pages of one chain share its link
 * checks: its first page owns them until the scan starts the chain, which
 * then keeps them (st->chain_links).
 */
typedef struct CrAhead
{
	CrFetch    *f;
	CrRequestScope scope;
	CrPageShape shape;			/* a record's first page, a collection's,
								 * or one whose link is not followed ahead */
	bool		first;			/* the first page of a chain */
	CrLinkCheck *links;			/* its chain's, or NULL until needed */
	CrAheadLink link_state;
	char	   *link;			/* the next link found in it */
} CrAhead;

/*
 * The scans of the backend that read the call record list of a window
 * (call_records without ids, a chain of list pages): while another scan
 * waits for Graph, it reads their lists ahead too (read_other_lists), so
 * that a list read through a cursor (the archive's) goes on while the
 * statements run between its fetches, not one round trip per page when
 * the cursor next fetches.  A scan joins when it asks ahead for a list
 * page and leaves when its requests ahead are dropped (its end, a rescan)
 * or its memory goes (an error).
 */
static dlist_head list_readers = DLIST_STATIC_INIT(list_readers);

static double pump(void *arg);
static json_t *fetch_json(CrScanState *st, CrFetch *f, const char *url, CrRequestScope scope,
						  bool allow_404, CrJsonArena *arena, CrPageShape shape,
						  char **followed);

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

/* Forget a request started ahead: its transfer stops, its memory goes. */
static void
free_ahead(CrScanState *st, CrAhead *a)
{
	if (a->f)
		cr_fetch_free(a->f);
	/* a chain not started yet: its first page owns the link checks */
	if (a->first && a->links && a->links != st->chain_links)
		cr_links_free(a->links);
	if (a->link)
		pfree(a->link);
	pfree(a);
}

/* Leave the list readers: the scan ends, starts over or its memory goes. */
static void
leave_list_readers(CrScanState *st)
{
	if (st->reader_listed)
		dlist_delete(&st->reader_node);
	st->reader_listed = false;
}

/* The memory callback form of leave_list_readers (an aborted query). */
static void
leave_list_readers_cb(void *arg)
{
	leave_list_readers((CrScanState *) arg);
}

/*
 * Join the list readers (once its requests ahead include a page of a call
 * record list), with a callback that takes the scan out again when its
 * memory goes without the scan ending (an error).
 */
static void
join_list_readers(CrScanState *st)
{
	if (st->reader_listed)
		return;
	if (!st->reader_callback)
	{
		MemoryContextCallback *cb = MemoryContextAlloc(st->scan_cxt, sizeof(MemoryContextCallback));

		cb->func = leave_list_readers_cb;
		cb->arg = st;
		MemoryContextRegisterResetCallback(st->scan_cxt, cb);
		st->reader_callback = true;
	}
	dlist_push_tail(&list_readers, &st->reader_node);
	st->reader_listed = true;
}

/* Stop every request started ahead; their answers are not needed. */
void
cr_drop_prefetch(CrScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
		free_ahead(st, lfirst(lc));
	list_free(st->prefetch);
	st->prefetch = NIL;
	st->next_prefetched = false;
	leave_list_readers(st);
	cr_links_free(st->chain_links);
	st->chain_links = NULL;
}

/*
 * Drop the requests ahead of a chain the scan has left (pages its next
 * links led to that the scan did not read: a page it read has left the
 * list), then its link checks.
 */
static void
drop_chain(CrScanState *st, CrLinkCheck *links)
{
	ListCell   *lc;

	if (links == NULL)
		return;
	foreach(lc, st->prefetch)
	{
		CrAhead    *a = lfirst(lc);

		if (a->links == links)
		{
			a->links = NULL;
			free_ahead(st, a);
			st->prefetch = foreach_delete_current(st->prefetch, lc);
		}
	}
	cr_links_free(links);
}

/* The request for url if it was started ahead, taken off the list. */
static CrAhead *
take_ahead(CrScanState *st, const char *url)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
	{
		CrAhead    *a = lfirst(lc);

		if (strcmp(cr_fetch_url(a->f), url) == 0)
		{
			st->prefetch = foreach_delete_current(st->prefetch, lc);
			return a;
		}
	}
	return NULL;
}

/* The fetch of an entry taken off the list, the entry itself freed. */
static CrFetch *
ahead_fetch(CrAhead *a)
{
	CrFetch    *f;

	if (a == NULL)
		return NULL;
	f = a->f;
	if (a->link)
		pfree(a->link);
	pfree(a);
	return f;
}

/*
 * The scan's requests not yet answered (held back by Graph's limits, or in
 * flight), the one it waits for included; notes the most in flight at
 * once, and the most bytes answers ahead held, for EXPLAIN ANALYZE.
 */
static int
outstanding(CrScanState *st, size_t *bytes)
{
	ListCell   *lc;
	int			n = st->waiting ? 1 : 0;
	int			flying = n;
	size_t		held = 0;

	foreach(lc, st->prefetch)
	{
		CrFetch    *f = ((CrAhead *) lfirst(lc))->f;
		CrFetchState state = cr_fetch_state(f);

		n += state != CR_FETCH_ANSWERED;
		flying += state == CR_FETCH_IN_FLIGHT;
		held += cr_fetch_bytes(f);
	}
	st->stats.in_flight_peak = Max(st->stats.in_flight_peak, flying);
	if (bytes)
		*bytes = held;
	return n;
}

/*
 * Whether the answers' part of the memory budget has room for one more
 * request ahead: what the answers hold, plus what the requests ahead not
 * answered yet will still add (each as large as the answer size the scan
 * expects, pacing.c, less what it holds already), plus one more such
 * answer.  So no more transfers start than can finish within the budget,
 * and none of them has to pause; before any size is known, pacing.c's
 * first wave bounds them.
 */
static bool
room_for_request(CrScanState *st)
{
	size_t		size = cr_answer_size(st);
	size_t		due = st->meter.held + size;
	ListCell   *lc;

	foreach(lc, st->prefetch)
	{
		CrFetch    *f = ((CrAhead *) lfirst(lc))->f;
		size_t		got;

		if (cr_fetch_state(f) == CR_FETCH_ANSWERED)
			continue;
		got = cr_fetch_bytes(f);
		due += size > got ? size - got : 0;
	}
	return due <= st->meter.limit;
}

/*
 * Start a request for url ahead of need, if the concurrency allows: fewer
 * than concurrency requests unanswered, so that a slot freed by any
 * answer is used at once (not only when the scan reaches it), at most
 * concurrency answers kept unread, and room in the memory budget for the
 * answers still to come and one more (room_for_request).  It goes after
 * the entry after (the page whose next link it is), or first (the list's
 * next page), or last.  Returns the new entry, or NULL when it did not
 * start it (and it should not be tried again yet).
 */
static CrAhead *
prefetch_url(CrScanState *st, const char *url, CrRequestScope scope, CrPageShape shape,
			 CrAhead *after, bool at_front)
{
	MemoryContext old;
	ListCell   *lc;
	CrFetch    *f;
	CrAhead    *a;
	foreach(lc, st->prefetch)
		if (strcmp(cr_fetch_url(((CrAhead *) lfirst(lc))->f), url) == 0)
			return lfirst(lc);
	if (list_length(st->prefetch) >= 2 * st->concurrency ||
		outstanding(st, NULL) >= st->concurrency || !room_for_request(st))
		return NULL;
	/*
	 * A request that may never be needed leaves some of the budget for
	 * those that are: as many as are in flight, at most CR_PREFETCH_RESERVE
	 * (with 100 in flight, a scan of 950 requests in a budget of 1,000
	 * would otherwise make its last 50 one after another).
	 */
	old = MemoryContextSwitchTo(st->scan_cxt);
	f = cr_fetch_start(st->opts, url, &scope, Min(st->concurrency, CR_PREFETCH_RESERVE),
					   st->page_size_hint, st->share_responses, &st->stats, &st->meter);
	a = NULL;
	if (f)
	{
		int			pos = list_length(st->prefetch);

		a = palloc0(sizeof(CrAhead));
		a->f = f;
		a->scope = scope;
		if (scope.name)
			a->scope.name = pstrdup(scope.name);
		a->shape = shape;
		a->link_state = CR_LINK_UNKNOWN;
		foreach(lc, st->prefetch)
			if (lfirst(lc) == after)
				pos = foreach_current_index(lc) + 1;
		st->prefetch = list_insert_nth(st->prefetch, at_front ? 0 : pos, a);
		if (scope.kind == CR_SCOPE_LIST && shape == CR_PAGE_COLLECTION)
			join_list_readers(st);
	}
	MemoryContextSwitchTo(old);
	return a;
}

/*
 * The closing quote of a JSON string whose text starts at p (after its
 * opening quote), or NULL.  By memchr, not byte by byte: a page's text is
 * looked into before it is read, and one string may be megabytes (a
 * member no column reads).  A quote is escaped when an odd run of
 * backslashes comes right before it; such a run never reaches back past
 * p, which follows a quote.
 */
static const char *
closing_quote(const char *p, const char *end)
{
	while (p < end)
	{
		const char *q = memchr(p, '"', end - p);
		const char *b;

		if (q == NULL)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

/*
 * A string member of the root object of a JSON text, found without
 * parsing it: the next link of a page answered ahead.  NULL when there is
 * none at the top level, or when the value is not a plain string (one
 * with escapes, null, anything else); the page's link is then followed
 * when the page is read, as it always was.  Strings are skipped with
 * their escapes, so a key spelled inside a value never matches.
 */
static char *
top_level_string(const char *p, size_t len, const char *key)
{
	const char *end = p + len;
	size_t		klen = strlen(key);
	int			depth = 0;
	bool		want_key = false;

	while (p < end)
	{
		const char *s;

		if (*p != '"')
		{
			if (*p == '{' || *p == '[')
				want_key = (++depth == 1 && *p == '{');
			else if (*p == '}' || *p == ']')
				depth--;
			else if (*p == ',' && depth == 1)
				want_key = true;
			p++;
			continue;
		}
		s = ++p;
		if ((p = closing_quote(p, end)) == NULL)
			return NULL;
		if (!(want_key && depth == 1))
		{
			p++;
			continue;
		}
		want_key = false;
		if ((size_t) (p - s) != klen || memcmp(s, key, klen) != 0)
		{
			p++;
			continue;
		}
		/* the key: its value must be a string without escapes */
		for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':'); p++)
			;
		if (p >= end || *p != '"')
			return NULL;
		s = ++p;
		while (p < end && *p != '"' && *p != '\\')
			p++;
		return (p < end && *p == '"') ? pnstrdup(s, p - s) : NULL;
	}
	return NULL;
}

/*
 * The member of a page that holds its next link: the child collection's
 * on a call record with expanded children, "@odata.nextLink" on a
 * collection.
 */
static const char *
link_key(CrScanState *st, CrPageShape shape, char buf[64])
{
	if (shape != CR_PAGE_RECORD)
		return "@odata.nextLink";
	snprintf(buf, 64, "%s@odata.nextLink", cr_child_key(st->levels[0]));
	return buf;
}

/*
 * Look for the next link of an answer ahead that has come: found in its
 * text, checked with its chain's link checks (begun here for a first
 * page), and kept to be asked for.
 */
static void
find_link(CrScanState *st, CrAhead *a)
{
	const char *body;
	size_t		len;
	char	   *url;
	char		key[64];
	MemoryContext old;

	if (!cr_fetch_peek(a->f, &body, &len))
		return;					/* not come yet, or not a 200: read in turn */
	a->link_state = CR_LINK_NONE;
	old = MemoryContextSwitchTo(st->scan_cxt);
	url = top_level_string(body, len, link_key(st, a->shape, key));
	if (url && a->links == NULL && a->first)
		a->links = cr_links_new(st, cr_fetch_url(a->f),
								a->shape == CR_PAGE_RECORD ? cr_child_key(st->levels[0]) : NULL);
	MemoryContextSwitchTo(old);
	if (url == NULL || a->links == NULL || !cr_link_allowed(st, url, a->links))
	{
		if (url)
			pfree(url);
		return;
	}
	a->link = url;
	a->link_state = CR_LINK_FOUND;
}

/*
 * Follow the next links of the answers ahead that have come, in the order
 * the scan reads them, as far as the concurrency and the memory bound
 * allow; with list_only, only those of call record list pages.  Not under
 * a LIMIT, which may stop before those pages, nor with a page size hint
 * (a list's, a log function's), whose pages are few.
 */
static void
follow_links(CrScanState *st, bool list_only)
{
	int			i;

	if (st->limited || st->page_size_hint > 0)
		return;
	for (i = 0; i < list_length(st->prefetch); i++)
	{
		CrAhead    *a = list_nth(st->prefetch, i);
		CrAhead    *next;

		if (a->shape == CR_PAGE_OTHER || (list_only && a->scope.kind != CR_SCOPE_LIST))
			continue;
		if (a->link_state == CR_LINK_UNKNOWN)
			find_link(st, a);
		if (a->link_state != CR_LINK_FOUND)
			continue;
		next = prefetch_url(st, a->link, a->scope, CR_PAGE_COLLECTION, a, false);
		if (next == NULL)
			return;
		next->links = a->links;
		a->link_state = CR_LINK_FOLLOWED;
		st->links_ahead++;
	}
}

/*
 * Read a page of the call record list, the list's next page, and hand it
 * to listing.c: its ids after those still to be read, or, with replace,
 * instead of them.
 */
static void
read_list_page(CrScanState *st, bool replace)
{
	CrRequestScope list_scope = {CR_SCOPE_LIST, NULL};
	char	   *url = pstrdup(st->list_link);
	json_t	   *root;

	st->list_link_ahead = false;	/* it is the page read now */
	root = fetch_json(st, ahead_fetch(take_ahead(st, url)), url, list_scope, false, NULL,
					  CR_PAGE_OTHER, NULL);
	PG_TRY();
	{
		cr_list_take_page(st, root, replace);
	}
	PG_FINALLY();
	{
		json_decref(root);
	}
	PG_END_TRY();
	pfree(url);
}

/*
 * The list's next page, asked for ahead, once it has come: its ids join
 * those still to be read, so that the requests for its records follow
 * those of the page before without a pause (a round trip) between them.
 * Returns false while it has not come.
 */
static bool
absorb_list_page(CrScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
	{
		CrFetch    *f = ((CrAhead *) lfirst(lc))->f;

		if (strcmp(cr_fetch_url(f), st->list_link) == 0)
		{
			if (cr_fetch_state(f) != CR_FETCH_ANSWERED)
				return false;
			read_list_page(st, false);
			return true;
		}
	}
	return false;
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

		if (!prefetch_url(st, st->list_link, list_scope, CR_PAGE_OTHER, NULL, true) ||
			!absorb_list_page(st))
			break;
	}
	upcoming = st->fanout ? st->list_ids : st->chains;
	for (i = Max(st->chains_started, st->chains_prefetched); i < list_length(upcoming); i++)
	{
		CrChain    *c = st->fanout ? NULL : list_nth(upcoming, i);
		const char *path = st->fanout ?
			cr_record_path(st->opts, st->res, cr_url_escape_utf8(list_nth(upcoming, i)),
						   NULL, st->expand_segments) : c->path;
		CrFirstPage first = c ? c->first : CR_FIRST_EXPANDED_RECORD;
		CrRequestScope scope = {CR_SCOPE_RECORD, NULL};
		CrAhead    *a;

		if (st->fanout)
			scope.name = list_nth(upcoming, i);
		else
			scope = chain_scope(st, c);
		a = prefetch_url(st, psprintf("%s%s", st->opts->graph_url, path), scope,
						 first == CR_FIRST_EXPANDED_RECORD ? CR_PAGE_RECORD :
						 first == CR_FIRST_COLLECTION ? CR_PAGE_COLLECTION : CR_PAGE_OTHER,
						 NULL, false);
		if (a == NULL)
			return;
		a->first = true;
		st->chains_prefetched = i + 1;
	}
}

/*
 * Keep requests in flight while rows are made: the next page of this
 * chain, the pages the answers ahead link to, and the first pages of the
 * chains (or listed call records) that come next.  Under a LIMIT the next
 * page is asked for only once half of the current one is used, so a
 * query that stops early does not ask for pages it never reads.
 */
void
cr_fill_prefetch(CrScanState *st)
{
	json_t	   *rows = st->arr[st->levels[0]];

	if (st->next_link && !st->next_prefetched && rows && st->page_size_hint == 0 &&
		(!st->limited || st->pos[st->levels[0]] + 1 >= (int64) json_array_size(rows) / 2))
	{
		CrAhead    *a = prefetch_url(st, st->next_link, chain_scope(st, st->chain),
									 CR_PAGE_COLLECTION, NULL, true);

		if (a)
			a->links = st->chain_links;
		st->next_prefetched = a != NULL;
	}
	/* answers that came while the rows were built, held requests now due */
	if (cr_fetch_progress())
	{
		(void) pump(st);
		return;
	}
	follow_links(st, false);
	fill_chains(st);
}

/*
 * Read ahead the list of a scan between rows while another scan waits:
 * send its list requests that Graph's limits held back, once they fit,
 * and follow the next links of its list pages that came.  Its other
 * requests wait for the scan itself.  Returns the milliseconds until a
 * held list request may fit, or 0.
 */
static double
read_list_ahead(CrScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->prefetch)
	{
		CrAhead    *a = lfirst(lc);
		double		delay;

		if (a->scope.kind == CR_SCOPE_LIST && cr_fetch_state(a->f) == CR_FETCH_HELD &&
			(delay = cr_fetch_try_begin(a->f)) > 0)
			return delay;
	}
	follow_links(st, true);
	return 0;
}

/*
 * Read ahead the lists of the other list readers that are between rows
 * (not waiting themselves), first, so that a list page takes the window's
 * next room before the waiting scan's requests, as a fan-out's does.
 * Returns the milliseconds until a held list request may fit, or 0.
 */
static double
read_other_lists(CrScanState *self)
{
	dlist_iter	it;
	double		soonest = 0;

	dlist_foreach(it, &list_readers)
	{
		CrScanState *st = dlist_container(CrScanState, reader_node, it.cur);
		double		delay;

		if (st == self || st->waiting)
			continue;
		delay = read_list_ahead(st);
		if (delay > 0 && (soonest == 0 || delay < soonest))
			soonest = delay;
	}
	return soonest;
}

/*
 * Run while the scan waits for a page (http.c calls it when an answer has
 * come or when the time it asked for has): follow the next links of the
 * answers that came, send the requests Graph's limits held back once they
 * fit, in the order they were asked for, then use the free slots for the
 * chains that come next.  Not the next page of the chain being read,
 * whose tree may be gone while its successor is fetched.  Returns the
 * milliseconds until a held request may fit, or 0.
 */
static double
pump(void *arg)
{
	CrScanState *st = (CrScanState *) arg;
	double		others = read_other_lists(st);
	ListCell   *lc;
	int			pass;

	cr_pacing_update(st);		/* the window may have room again */
	for (pass = 0; pass < 2; pass++)
	{
		foreach(lc, st->prefetch)
		{
			CrFetch    *f = ((CrAhead *) lfirst(lc))->f;
			double		delay;

			if (cr_fetch_state(f) == CR_FETCH_HELD && (delay = cr_fetch_try_begin(f)) > 0)
				return others > 0 ? Min(delay, others) : delay;
		}
		if (pass == 0)
		{
			follow_links(st, false);
			fill_chains(st);
		}
	}
	(void) outstanding(st, NULL);
	return others;
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
 * Follow the next link of a page of the current chain that the scan
 * waited for, found in its text before it is parsed.  Otherwise the next
 * page is asked for only once this one is parsed, and whenever the scan
 * has caught up with a big meeting's pages (after each pause that Graph's
 * per-record limit imposes, say) they come one parse and one round trip
 * apart.  Returns the link, checked and noted as asked for, in the scan's
 * context (its request started if the concurrency allows), or NULL.
 */
static char *
follow_waited_link(CrScanState *st, const CrResponse *resp, CrRequestScope scope,
				   CrPageShape shape)
{
	char		key[64];
	char	   *url;
	CrAhead    *next;
	MemoryContext old;

	if (st->limited || st->page_size_hint > 0 || st->concurrency <= 1 ||
		shape == CR_PAGE_OTHER || st->chain_links == NULL)
		return NULL;
	old = MemoryContextSwitchTo(st->scan_cxt);
	url = top_level_string(resp->body, resp->body_len, link_key(st, shape, key));
	MemoryContextSwitchTo(old);
	if (url == NULL)
		return NULL;
	if (!cr_link_allowed(st, url, st->chain_links))
	{
		pfree(url);
		return NULL;			/* refused: reported when the page is read */
	}
	next = prefetch_url(st, url, scope, CR_PAGE_COLLECTION, NULL, true);
	if (next)
	{
		next->links = st->chain_links;
		st->links_ahead++;
	}
	return url;
}

/*
 * The answers' part of the memory budget: the budget less what reading
 * one page costs beyond the answers ahead, kept back for the page the
 * scan waits for, which is never held back: its answer (the largest so
 * far) and its pruned text and tree (the most a page of this scan cost
 * so far).  An eighth of the budget until a page was read (what one
 * costs is not known yet: the requests ahead are sent, and the answers
 * past that wait at the socket meanwhile, while small pages come in and
 * their next links are followed).  Nothing when a page alone costs the
 * budget: then only the answer the scan waits for comes in, one at a
 * time.
 */
static void
set_answers_limit(CrScanState *st)
{
	size_t		reserve = st->page_cost_peak > 0 ?
		st->page_cost_peak + st->meter.largest : st->memory_budget - st->memory_budget / 8;

	st->meter.limit = st->memory_budget > reserve ? st->memory_budget - reserve : 0;
}

/*
 * The memory budget of a scan, once, at its start: its rescans share it,
 * and EXPLAIN ANALYZE shows the most it held.
 */
void
cr_memory_start(CrScanState *st)
{
	memset(&st->meter, 0, sizeof(st->meter));
	st->memory_budget = cr_memory_budget(st->opts);
	st->page_cost_peak = 0;
	set_answers_limit(st);
}

/*
 * A page was just parsed: its answer (still held), pruned text and tree
 * are all in memory now, the scan's peak if any moment is.  What the text
 * and tree cost is kept back from the answers for the pages to come.
 */
static void
note_page_cost(CrScanState *st, CrJsonArena *arena, size_t pruned_len)
{
	size_t		cost = arena->used + pruned_len;

	st->meter.page = cost;
	st->meter.peak = Max(st->meter.peak, st->meter.held + cost);
	st->page_cost_peak = Max(st->page_cost_peak, cost);
	set_answers_limit(st);
}

/*
 * GET a Graph URL (a path joined to graph_url, or a next link) and parse
 * its JSON object; the caller owns the tree, which is in arena when one
 * is given (pruned first by shape).  f is the request started ahead for
 * the URL, or NULL to start it now; it is freed here.  Returns NULL for a
 * 404 when allow_404 is set.  With followed (a chain's page) and no link
 * followed yet, the page's next link is followed before the parse
 * (follow_waited_link) and set there.
 */
static json_t *
fetch_json(CrScanState *st, CrFetch *f, const char *url, CrRequestScope scope,
		   bool allow_404, CrJsonArena *arena, CrPageShape shape, char **followed)
{
	CrResponse	resp;
	json_error_t jerr;
	json_t	   *root;
	bool		was_waiting;

	if (f == NULL)
	{
		MemoryContext old;

		MemoryContextReset(st->page_cxt);
		old = MemoryContextSwitchTo(st->page_cxt);
		f = cr_fetch_start(st->opts, url, &scope, 0, st->page_size_hint,
						   st->share_responses, &st->stats, &st->meter);
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
	if (followed && *followed == NULL)
		*followed = follow_waited_link(st, &resp, scope, shape);

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
		note_page_cost(st, arena, pruned ? pruned_len : 0);
		if (root == NULL)
			check_arena_refusal(arena, resp.body_len);
		st->stats.parsed_bytes += root && pruned ? graph_len : resp.body_len;
		if (pruned)
			pfree(pruned);
		st->meter.page = arena->used;
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
 * Replace st->page by the answer to url (started ahead, or now), dropping
 * the previous page first: the cursor has left it (cr_leave_page).
 * Returns false for a 404 when allow_404 is set.
 */
static bool
fetch_page(CrScanState *st, CrFetch *f, const char *url, CrRequestScope scope,
		   bool allow_404, CrPageShape shape, char **followed)
{
	st->page = NULL;
	cr_arena_reset(&st->arena);
	st->meter.page = 0;
	st->page = fetch_json(st, f, url, scope, allow_404, &st->arena, shape, followed);
	return st->page != NULL;
}

/*
 * Remember the next link of the page just read.  The link found in its
 * text and followed ahead was checked then; any other goes through the
 * chain's link checks now.
 */
static void
set_next_link(CrScanState *st, json_t *link, const char *followed)
{
	char	   *prev = st->next_link;
	const char *url = link ? json_string_value(link) : NULL;

	if (followed && url && strcmp(url, followed) == 0)
		st->next_link = MemoryContextStrdup(st->scan_cxt, url);
	else
		st->next_link = cr_checked_next_link(st, link, st->chain_links);
	st->next_prefetched = false;
	if (prev)
		pfree(prev);
}

/*
 * The URL of a chain's first page.  A sessions scan asks for the sessions
 * alone, but if another scan of the statement already has them with their
 * segments, that answer serves too (its next links lead to more of the
 * same); not when the scan asked ahead for its own.
 */
static char *
first_url(CrScanState *st, CrChain *c)
{
	char	   *url = psprintf("%s%s", st->opts->graph_url, c->path);
	ListCell   *lc;
	char	   *full;

	if (c->first != CR_FIRST_EXPANDED_RECORD || st->expand_segments ||
		st->res->level != CR_LEVEL_SESSION)
		return url;
	foreach(lc, st->prefetch)
		if (strcmp(cr_fetch_url(((CrAhead *) lfirst(lc))->f), url) == 0)
			return url;
	full = psprintf("%s%s", st->opts->graph_url,
					cr_record_path(st->opts, st->res, cr_url_escape_utf8(c->record_id),
								   NULL, true));
	return cr_graph_cached(st->opts, full, st->page_size_hint) ? full : url;
}

/*
 * The rows of the page just read at the level it holds them: a call
 * record's child collection, or a collection page's "value".
 */
static int64
page_rows(CrScanState *st, CrPageShape shape)
{
	json_t	   *rows = json_object_get(st->page, shape == CR_PAGE_RECORD ?
									   cr_child_key(st->levels[0]) : "value");

	return json_is_array(rows) ? (int64) json_array_size(rows) : 0;
}

/*
 * Count a call record (a JSON object) in the hour it started, when the
 * scan lists that hour whole; returns the hour counted, or NULL.  A record
 * whose start the page does not give (a $select without it) leaves every
 * hour's count unknown.
 */
static CrShapeHour *
count_hour(CrScanState *st, json_t *rec)
{
	int32		hour;
	CrShapeHour *h;

	if (!st->hours_covered)
		return NULL;
	hour = cr_shape_hour_of_text(json_string_value(json_object_get(rec, "startDateTime")));
	if (hour == 0)
	{
		st->hours_covered = false;
		return NULL;
	}
	h = &st->shape_hours[CR_SHAPE_HOUR_SLOT(hour)];
	if (h->hour != hour)
		return NULL;			/* an hour the window covers in part */
	h->records++;
	return h;
}

/*
 * Count what the page just read shows of the tenant's shape (shape.c):
 * the sessions and pages of a listed call record's chain, or the records
 * of a call record list read as the table's rows.  first: it starts a
 * chain.
 */
static void
count_shape(CrScanState *st, CrFirstPage kind, bool first)
{
	if (st->fanout && st->levels[0] == CR_LEVEL_SESSION && kind != CR_FIRST_SINGLE)
	{
		if (first)
		{
			st->chain_counted = true;
			st->chain_pages = 0;
			st->chain_sessions = 0;
			st->chain_hour = kind == CR_FIRST_EXPANDED_RECORD ? count_hour(st, st->page) : NULL;
		}
		st->chain_pages++;
		st->chain_sessions += page_rows(st, kind == CR_FIRST_EXPANDED_RECORD && first ?
										CR_PAGE_RECORD : CR_PAGE_COLLECTION);
	}
	else if (st->res->fetch == CR_FETCH_RECORDS && kind == CR_FIRST_COLLECTION)
	{
		json_t	   *rows = json_object_get(st->page, "value");
		json_t	   *rec;
		size_t		i;

		st->listed += page_rows(st, CR_PAGE_COLLECTION);
		json_array_foreach(rows, i, rec)
			count_hour(st, rec);
	}
}

/* A counted chain was read to its end: add it up, and to its hour. */
static void
count_chain_end(CrScanState *st)
{
	if (!st->chain_counted)
		return;
	st->chain_counted = false;
	st->shape_chains++;
	st->shape_pages += st->chain_pages;
	st->shape_sessions += st->chain_sessions;
	if (st->chain_hour)
	{
		st->chain_hour->pages += st->chain_pages;
		st->chain_hour->sessions += st->chain_sessions;
		st->chain_hour = NULL;
	}
}

/*
 * The scan read everything: tell shape.c what it saw, once per run.  Only
 * here, not under a LIMIT that stopped early, since part of a list or of
 * the records says nothing of the whole.
 */
static void
note_shape(CrScanState *st)
{
	if (st->list_span_days >= 0)
		cr_shape_note_list(st->opts, st->listed, st->list_span_days);
	if (st->shape_chains > 0)
		cr_shape_note_chains(st->opts, st->shape_chains, st->shape_pages, st->shape_sessions);
	/* the hours are known when every record listed was counted */
	if (st->hours_covered && (!st->fanout || st->shape_chains == st->listed))
		cr_shape_note_hours(st->opts, st->shape_hours);
	st->hours_covered = false;
	st->list_span_days = -1;
	st->shape_chains = 0;
}

/*
 * Read the first page of a chain into st->page, for rows.c to take
 * (st->page_kind says how it holds its rows).  The requests ahead of the
 * chain read before are dropped with its link checks; the chain's own,
 * begun when its first page was answered ahead, carry on.  Returns false
 * if Graph does not know the call record.
 */
static bool
start_chain(CrScanState *st, CrChain *c)
{
	char	   *url = first_url(st, c);
	CrAhead    *a = take_ahead(st, url);
	CrLinkCheck *links = a ? a->links : NULL;
	char	   *followed = a && a->link ? pstrdup(a->link) : NULL;
	CrLinkCheck *prev = st->chain_links;
	char		key[64];

	st->chain_links = NULL;
	drop_chain(st, prev);
	st->chain_links = links ? links :
		cr_links_new(st, url, c->first == CR_FIRST_EXPANDED_RECORD ?
					 cr_child_key(st->levels[0]) : NULL);
	st->chain = c;
	st->page_kind = c->first;
	st->page_starts_chain = true;

	if (!fetch_page(st, ahead_fetch(a), url, chain_scope(st, c), c->first != CR_FIRST_COLLECTION,
					c->first == CR_FIRST_EXPANDED_RECORD ? CR_PAGE_RECORD :
					c->first == CR_FIRST_COLLECTION ? CR_PAGE_COLLECTION : CR_PAGE_OTHER,
					&followed))
	{
		if (followed)
			pfree(followed);
		return false;
	}
	count_shape(st, c->first, true);
	if (c->first == CR_FIRST_SINGLE)
		set_next_link(st, NULL, NULL);
	else
		set_next_link(st, json_object_get(st->page,
										  link_key(st, c->first == CR_FIRST_EXPANDED_RECORD ?
												   CR_PAGE_RECORD : CR_PAGE_COLLECTION, key)),
					  followed);
	if (followed)
		pfree(followed);
	return true;
}

/*
 * Whether a chain's first page costs a request: not when the statement's
 * cache has it or the scan asked for it already.
 */
static bool
chain_needs_request(CrScanState *st, CrChain *c)
{
	char	   *url = first_url(st, c);
	ListCell   *lc;

	if (cr_graph_cached(st->opts, url, st->page_size_hint))
		return false;
	foreach(lc, st->prefetch)
		if (strcmp(cr_fetch_url(((CrAhead *) lfirst(lc))->f), url) == 0)
			return false;
	return true;
}

/*
 * Fail a scan whose requests are known before it starts and do not fit
 * the statement's budget (ratelimit.c), before it sends any: one per
 * chain (an id of a key list, a time window, a log function's window)
 * and one per call record list to go through.  What the scan learns
 * while it runs (next links, the records a list names) is counted as
 * each request is admitted, and stops at the budget there.
 */
void
cr_check_known_requests(CrScanState *st)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "callrecords_fdw budget check",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64		needed = st->fanout ? list_length(st->list_paths) + (st->list_link != NULL) : 0;
	ListCell   *lc;

	foreach(lc, st->chains)
	{
		if ((foreach_current_index(lc) & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		needed += chain_needs_request(st, lfirst(lc));
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	cr_budget_check(st->opts, needed);
}

/*
 * Start the chain of the next listed call record, reading the list's
 * next page when the ids read so far are used up.  Returns false when the
 * list is used up.
 */
static bool
next_listed_record(CrScanState *st)
{
	for (;;)
	{
		CrChain    *c = cr_list_next_chain(st);

		if (c == NULL)
		{
			if (cr_list_next_url(st) == NULL)
				return false;
			read_list_page(st, true);
			if (st->concurrency > 1)
				cr_fill_prefetch(st);
			continue;
		}
		if (start_chain(st, c))
			return true;
	}
}

/*
 * Load the next page into st->page: the next link of the current chain,
 * or the first page of the next chain (or listed call record).  The
 * caller has left the page before (cr_leave_page) and hands the new one
 * to rows.c.  Returns false when everything was read.
 */
bool
cr_next_page(CrScanState *st)
{
	char	   *url;
	CrAhead    *a;
	char	   *followed;

	while (st->next_link == NULL)
	{
		CrChain    *c;

		count_chain_end(st);
		if (st->next_chain == NULL)
		{
			if (st->fanout && next_listed_record(st))
				return true;
			note_shape(st);
			return false;
		}
		c = lfirst(st->next_chain);
		st->next_chain = lnext(st->chains, st->next_chain);
		st->chains_started++;
		if (start_chain(st, c))
			return true;
	}

	url = pstrdup(st->next_link);
	a = take_ahead(st, url);
	followed = a && a->link ? pstrdup(a->link) : NULL;
	st->page_kind = CR_FIRST_COLLECTION;
	st->page_starts_chain = false;
	fetch_page(st, ahead_fetch(a), url, chain_scope(st, st->chain), false, CR_PAGE_COLLECTION,
			   &followed);
	count_shape(st, st->page_kind, false);
	set_next_link(st, json_object_get(st->page, "@odata.nextLink"), followed);
	if (followed)
		pfree(followed);
	pfree(url);
	return true;
}
