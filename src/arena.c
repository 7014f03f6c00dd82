/*-------------------------------------------------------------------------
 *
 * arena.c
 *		  The bump allocator that jansson uses while a page is parsed.
 *
 * A page's tree is some 100,000 small objects that all die together with
 * the page; taking them from blocks and dropping them at once saves about
 * a third of what a page costs (scan_int.h, CrJsonArena).
 *
 * Rules kept here: the arena is jansson's allocator only between
 * cr_arena_enter() and cr_arena_leave(), around jansson calls alone
 * (jansson's allocator is global to the process), so nothing else frees
 * into it and the allocator is always put back; the arena never ereports
 * (no memory is a NULL to jansson, and so are a pending cancel and a tree
 * past its bound, which the caller then raises); its blocks are kept from
 * page to page and only the large chunks are given back.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/arena.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "scan_int.h"

#define ARENA_BLOCK_SIZE (256 * 1024)
#define ARENA_BIG_CHUNK (32 * 1024)

/*
 * A page's tree may take this many times the page's size, plus the floor.
 * A whole page of Graph's shape (sessions, segments, media, streams)
 * needs about eight times its size; a page of tiny values (arrays of
 * thousands of 1s) needs twenty and more, and is refused.
 */
#define ARENA_PAGE_FACTOR 10
#define ARENA_FLOOR ((size_t) 16 * 1024 * 1024)

static CrJsonArena *active_arena = NULL;	/* while a page is parsed */

/* jansson's allocator while a page is parsed; NULL tells it "no memory". */
static void *
arena_alloc(size_t size)
{
	CrJsonArena *a = active_arena;
	char	   *p;

	/* a cancel ends the parse: jansson sees no memory, the caller CFIs */
	if (QueryCancelPending || ProcDiePending)
	{
		a->interrupted = true;
		return NULL;
	}
	size = MAXALIGN(size);
	if (a->used + size > a->limit)
	{
		a->refused = true;
		return NULL;
	}
	a->used += size;
	if (size > ARENA_BIG_CHUNK)
		return MemoryContextAllocExtended(a->big_cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (a->cur == NULL || (size_t) (a->end - a->next) < size)
	{
		CrArenaBlock *b = a->cur ? a->cur->next : a->first;

		if (b == NULL)
		{
			b = MemoryContextAllocExtended(a->cxt, offsetof(CrArenaBlock, data) + ARENA_BLOCK_SIZE,
										   MCXT_ALLOC_NO_OOM);
			if (b == NULL)
				return NULL;
			b->next = NULL;
			if (a->cur)
				a->cur->next = b;
			else
				a->first = b;
		}
		a->cur = b;
		a->next = b->data;
		a->end = b->data + ARENA_BLOCK_SIZE;
	}
	p = a->next;
	a->next += size;
	return p;
}

/* Nothing is freed one by one: the arena is reset with the next page. */
static void
arena_free(void *ptr)
{
}

/*
 * Forget the page's tree.  The blocks are kept for the next page: giving
 * them back to malloc and faulting fresh ones in again for every page
 * would cost more than the arena saves.
 */
void
cr_arena_reset(CrJsonArena *a)
{
	MemoryContextReset(a->big_cxt);
	a->cur = NULL;
	a->next = a->end = NULL;
	a->used = 0;
	a->limit = ARENA_FLOOR;
	a->refused = a->interrupted = false;
}

/*
 * Bound the tree of a page of page_len bytes about to be parsed, so a
 * hostile page of tiny values cannot take the backend to many times its
 * size: past the bound jansson gets no memory and the page is refused.
 */
void
cr_arena_limit(CrJsonArena *a, size_t page_len)
{
	a->limit = Max(a->limit, ARENA_FLOOR + (Size) page_len * ARENA_PAGE_FACTOR);
}

/*
 * Make the arena jansson's allocator until cr_arena_leave().  What runs in
 * between is jansson alone, which never leaves by longjmp (the arena's
 * allocations do not ereport), so the process-wide allocator is always
 * put back.
 */
void
cr_arena_enter(CrJsonArena *a, CrAllocFuncs *saved)
{
	json_get_alloc_funcs(&saved->malloc_fn, &saved->free_fn);
	active_arena = a;
	json_set_alloc_funcs(arena_alloc, arena_free);
}

/* Put back the allocator that cr_arena_enter() saved. */
void
cr_arena_leave(const CrAllocFuncs *saved)
{
	json_set_alloc_funcs(saved->malloc_fn, saved->free_fn);
	active_arena = NULL;
}
