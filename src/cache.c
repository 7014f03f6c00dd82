/*-------------------------------------------------------------------------
 *
 * cache.c
 *		  The statement's response cache: Graph pages shared by the scans of
 *		  one statement.
 *
 * Scans of one statement that need the same Graph page (sessions,
 * segments and streams of one call record joined together; a rescan with
 * the same key) share one request.
 *
 * Rules kept here: only successful bodies are kept, up to CR_CACHE_BYTES
 * (the oldest forgotten first, a page over a quarter of it never kept);
 * nothing outlives the statement that fetched it (cr_statement_number) or
 * its transaction; an entry is keyed by user mapping, URL and page size
 * hint, so no role reads another's answer.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "http_int.h"

/*
 * The statement's response cache.  Scans of one statement that need the
 * same Graph page (sessions, segments and streams of one call record
 * joined together; a rescan with the same key) share one request.  It
 * holds successful bodies only, up to CR_CACHE_BYTES, forgets the oldest
 * first, and is emptied when the statement or transaction changes, so no
 * answer outlives the statement that fetched it.
 */
#define CR_CACHE_BYTES	((size_t) 64 * 1024 * 1024)


static MemoryContext cr_cache_cxt = NULL;
static List *cr_cache = NIL;	/* of CrCachedPage *, oldest first */
static size_t cr_cache_bytes = 0;
static uint64 cr_cache_statement = 0;

static void
cache_reset(void)
{
	if (cr_cache_cxt)
		MemoryContextReset(cr_cache_cxt);
	cr_cache = NIL;
	cr_cache_bytes = 0;
}

/* Drop the cache when the statement it was filled for is over. */
static void
cache_check_statement(void)
{
	uint64		now = cr_statement_number();

	if (now != cr_cache_statement)
	{
		cache_reset();
		cr_cache_statement = now;
	}
}

CrCachedPage *
cr_cache_lookup(Oid umid, const char *url, int maxpagesize)
{
	ListCell   *lc;

	cache_check_statement();
	foreach(lc, cr_cache)
	{
		CrCachedPage *p = lfirst(lc);

		if (p->umid == umid && p->maxpagesize == maxpagesize &&
			strcmp(p->url, url) == 0)
			return p;
	}
	return NULL;
}

void
cr_cache_store(Oid umid, const char *url, int maxpagesize, const CrResponse *resp)
{
	MemoryContext old;
	CrCachedPage *p;

	if (resp->body_len > CR_CACHE_BYTES / 4)
		return;					/* a huge page would evict everything */
	if (cr_cache_cxt == NULL)
		cr_cache_cxt = AllocSetContextCreate(TopMemoryContext,
											 "callrecords_fdw response cache",
											 ALLOCSET_DEFAULT_SIZES);
	while (cr_cache != NIL && cr_cache_bytes + resp->body_len > CR_CACHE_BYTES)
	{
		CrCachedPage *oldest = linitial(cr_cache);

		cr_cache_bytes -= oldest->body_len;
		pfree(oldest->url);
		pfree(oldest->body);
		pfree(oldest);
		cr_cache = list_delete_first(cr_cache);
	}
	old = MemoryContextSwitchTo(cr_cache_cxt);
	p = palloc(sizeof(CrCachedPage));
	p->umid = umid;
	p->maxpagesize = maxpagesize;
	p->url = pstrdup(url);
	p->body = palloc(resp->body_len + 1);
	memcpy(p->body, resp->body, resp->body_len + 1);
	p->body_len = resp->body_len;
	cr_cache = lappend(cr_cache, p);
	cr_cache_bytes += p->body_len;
	MemoryContextSwitchTo(old);
}

/* A transaction's end ends its statements' caches too. */
static void
cache_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		cache_reset();
}

/* Whether the statement's cache holds the answer to url. */
bool
cr_graph_cached(const CrOptions *opts, const char *url, int maxpagesize)
{
	return cr_cache_lookup(opts->umid, url, maxpagesize) != NULL;
}

/* Empty the cache at the end of every transaction. */
void
cr_cache_init(void)
{
	RegisterXactCallback(cache_xact_callback, NULL);
}
