/*-------------------------------------------------------------------------
 *
 * listing.c
 *		  The call record list of a fan-out: its pages, read ahead, and
 *		  the ids they list, each of which becomes a request chain.
 *
 * A table below call records queried without ids lists the call records
 * (in each time window) and reads each one.  A list page is a round trip,
 * and each needs the one before (its next link), so the list is read
 * ahead (fetch.c asks for the next page first among the requests it
 * holds) and its ids join those still to be read, so that there are ids
 * to send whenever Graph's windows have room.
 *
 * This file fetches nothing: fetch.c hands it each list page it fetched
 * and asks it for the chain of the next listed record, which fetch.c then
 * starts.  It calls only chains.c (chain paths and link checks) below it.
 *
 * Rules kept here: the ids not yet read are kept in a context renewed
 * once CR_LIST_COMPACT were read, so the list's memory does not grow with
 * its pages; a list page's next link is checked like a chain's (same
 * collection, never a page already read); an id that would be a URL dot
 * segment names no record and is left out.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/listing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "utils/memutils.h"
#include "scan_int.h"

/*
 * Keep only the ids of the list not yet started, in a fresh context, so
 * that a list read ahead does not grow with its pages.
 * Called between two listed records: the chain that lived in the old
 * context is finished.
 */
static void
compact_list(CrScanState *st)
{
	MemoryContext fresh = AllocSetContextCreate(MemoryContextGetParent(st->list_cxt),
												"callrecords_fdw call record list",
												ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(fresh);
	List	   *ids = NIL;
	int			i;

	for (i = st->chains_started; i < list_length(st->list_ids); i++)
		ids = lappend(ids, pstrdup(list_nth(st->list_ids, i)));
	MemoryContextSwitchTo(old);
	st->chain = NULL;
	MemoryContextDelete(st->list_cxt);
	st->list_cxt = fresh;
	st->list_ids = ids;
	st->chains_prefetched = Max(0, st->chains_prefetched - st->chains_started);
	st->chains_started = 0;
}

/*
 * Append the ids of a list page to those of the scan, in the list's
 * context.  An id that would be a URL dot segment names no record.
 */
static void
add_list_ids(CrScanState *st, json_t *value)
{
	MemoryContext old = MemoryContextSwitchTo(st->list_cxt);
	json_t	   *rec;
	size_t		i;

	json_array_foreach(value, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));

		if (id && cr_id_names_record(id))
		{
			st->list_ids = lappend(st->list_ids, pstrdup(id));
			st->listed++;
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * Take a page of the call record list (the caller fetched and frees it)
 * and keep its ids: after those still to be read, or, with replace,
 * instead of them (the chain that lived in the list's context is
 * finished).  Its next link, checked like a chain's, becomes the list's.
 */
void
cr_list_take_page(CrScanState *st, json_t *root, bool replace)
{
	json_t	   *value = json_object_get(root, "value");
	char	   *prev = st->list_link;

	if (!json_is_array(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of call records")));
	if (replace)
	{
		st->chain = NULL;		/* it lived in list_cxt */
		MemoryContextReset(st->list_cxt);
		st->list_ids = NIL;
		st->chains_started = st->chains_prefetched = 0;
	}
	add_list_ids(st, value);
	st->list_link = cr_checked_next_link(st, json_object_get(root, "@odata.nextLink"),
										 &st->list_links);
	st->list_link_ahead = st->list_link != NULL;
	if (prev)
		pfree(prev);
}

/*
 * The URL of the list page to read once the ids read so far are used up:
 * the list's next page, or the first page of the next time window's list
 * (its link checks begin here).  NULL at the end of the last list.
 */
const char *
cr_list_next_url(CrScanState *st)
{
	/* a list path is set here or when the chains are built (chains.c) */
	if (st->list_link == NULL && !cr_next_list_path(st))
		return NULL;
	if (!st->list_links_begun)
	{
		cr_links_begin(st, &st->list_links, st->list_link, NULL);
		st->list_links_begun = true;
	}
	return st->list_link;
}

/*
 * The chain of the next listed call record, counted as started; NULL when
 * the ids read so far are used up (cr_list_next_url then says which list
 * page comes next).
 */
CrChain *
cr_list_next_chain(CrScanState *st)
{
	char	   *id;
	CrChain    *c;
	MemoryContext old;

	if (st->chains_started >= list_length(st->list_ids))
		return NULL;
	if (st->chains_started >= CR_LIST_COMPACT)
		compact_list(st);
	id = list_nth(st->list_ids, st->chains_started);
	st->chains_started++;
	old = MemoryContextSwitchTo(st->list_cxt);
	c = cr_make_chain(cr_record_path(st->opts, st->res, cr_url_escape_utf8(id), NULL,
									 st->expand_segments),
					  CR_FIRST_EXPANDED_RECORD, id);
	MemoryContextSwitchTo(old);
	return c;
}
