/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The executor's side of a scan: the FDW callbacks that begin,
 *		  iterate, rescan and end it, and the setup that reads the plan
 *		  (the columns the query reads, the levels a page is walked
 *		  through, what pages keep, the $select).
 *
 * The work is done by the other scan files (scan_int.h): chains.c turns
 * the pushed-down values into request chains at the first row, fetch.c
 * fetches their pages, a few ahead, and rows.c walks each page's tree into
 * rows.
 *
 * Memory, all below the query's context:
 *	- the scan's context: the scan state, requests started ahead, next links;
 *	- "chains": the request chains of one scan or rescan, reset at each
 *	  rescan, so a nested loop's rescans do not add up;
 *	- "call record list": the ids of one page of the call record list;
 *	- "page": a page's body while it is fetched, reset per page;
 *	- "page tree": the arena (arena.c) jansson builds the page's tree in,
 *	  reset per page, its blocks kept from page to page;
 *	- "tuple": reset per row.
 * Only the call record kept for the key columns is in jansson's own
 * (malloc'd) memory.  A reset callback on the scan's context releases it
 * when a query fails or is cancelled, so an error never leaks it.
 *
 * A scan that may be rescanned keeps the rows of its last run (keep.c):
 * a rescan that changes no parameter, or whose requests are those of the
 * run kept, takes its rows from them.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_scan.h"

#include "access/relation.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "scan_int.h"
#include "keep.h"

/* Drop the JSON trees; safe to call twice. */
static void
release_json(void *arg)
{
	CrScanState *st = (CrScanState *) arg;

	/* the page's tree is arena memory: it goes with the arena, not here */
	if (st->record)
		json_decref(st->record);
	st->page = NULL;
	st->record = NULL;
	memset(st->arr, 0, sizeof(st->arr));
	memset(st->obj, 0, sizeof(st->obj));
}

/* the longest call record id an error context quotes whole */
#define CR_MESSAGE_ID_MAX	100

/* Adds which column and call record (or window) a failure happened at. */
static void
scan_error_callback(void *arg)
{
	CrScanState *st = (CrScanState *) arg;
	const char *relname = RelationGetRelationName(st->rel);
	const char *where = st->chain ? st->chain->record_id : NULL;

	/* a pushed join's column names its own table */
	if (st->cur_attr >= 0 && st->attr_rels)
		relname = st->attr_rels[st->cur_attr];

	/* an id is a GUID; a long one given in a query is quoted cut short */
	if (where && strlen(where) > CR_MESSAGE_ID_MAX)
		where = psprintf("%.*s...", pg_mbcliplen(where, strlen(where), CR_MESSAGE_ID_MAX),
						 where);

	if (st->cur_attr >= 0)
		errcontext("column \"%s\" of foreign table \"%s\"%s%s%s",
				   NameStr(TupleDescAttr(st->tupdesc, st->cur_attr)->attname),
				   relname, where ? ", call record \"" : "", where ? where : "",
				   where ? "\"" : "");
	else if (where)
		errcontext("foreign table \"%s\", call record \"%s\"", relname, where);
	else
		errcontext("foreign table \"%s\"", relname);
}

/* The "path" option of a column, or NULL. */
static const char *
column_path_option(Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, GetForeignColumnOptions(relid, attnum))
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "path") == 0)
			return defGetString(def);
	}
	return NULL;
}

/*
 * The definition of a column of a table of the resource: its "path"
 * option if it has one, else the catalogue entry of its name.  A name the
 * resource does not have is an error, since a column that silently
 * stayed NULL would be a wrong answer.
 */
static const CrColumnDef *
resolve_column(Oid relid, const CrResource *res, AttrNumber attnum, const char *relname)
{
	const char *attname = get_attname(relid, attnum, false);
	const char *path = column_path_option(relid, attnum);
	const CrColumnDef *def;

	if (path)
	{
		CrColumnDef *d = palloc0(sizeof(CrColumnDef));

		d->name = pstrdup(attname);
		d->level = res->level;
		d->path = path;
		d->type = CR_GT_JSON;	/* nothing special: the declared type rules */
		return d;
	}
	def = cr_find_column(res, attname);
	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("column \"%s\" of foreign table \"%s\" is not a property of resource \"%s\"",
						attname, relname, res->name),
				 errhint("Use the column option \"path\" to map a column to a Graph property, or IMPORT FOREIGN SCHEMA callrecords to get every known column.")));
	return def;
}

/* Resolve each column of the table the query reads. */
static void
resolve_columns(CrScanState *st, List *retrieved_attrs)
{
	ListCell   *lc;

	st->defs = palloc0(sizeof(CrColumnDef *) * st->tupdesc->natts);
	st->convs = palloc0(sizeof(CrColumnConv *) * st->tupdesc->natts);
	foreach(lc, retrieved_attrs)
	{
		int			i = lfirst_int(lc) - 1;
		Form_pg_attribute attr = TupleDescAttr(st->tupdesc, i);

		if (attr->attisdropped)
			continue;
		st->defs[i] = resolve_column(RelationGetRelid(st->rel), st->res, attr->attnum,
									 RelationGetRelationName(st->rel));
		st->convs[i] = cr_make_column_conv(attr, st->defs[i]);
	}
}

/*
 * Resolve each column of a pushed join's scan tuple (fdw_scan_tlist): the
 * column of its Var's table, read at that table's level of the walk.
 */
static void
resolve_join_columns(CrScanState *st, List *scan_tlist, EState *estate, Oid userid)
{
	ListCell   *lc;
	int			i = 0;

	st->defs = palloc0(sizeof(CrColumnDef *) * st->tupdesc->natts);
	st->convs = palloc0(sizeof(CrColumnConv *) * st->tupdesc->natts);
	st->attr_rels = palloc0(sizeof(char *) * st->tupdesc->natts);
	foreach(lc, scan_tlist)
	{
		Var		   *v = (Var *) ((TargetEntry *) lfirst(lc))->expr;
		Oid			relid = exec_rt_fetch(v->varno, estate)->relid;
		const CrResource *res = cr_table_resource(cr_get_options(relid, userid, false));

		st->attr_rels[i] = get_rel_name(relid);
		st->defs[i] = resolve_column(relid, res, v->varattno, st->attr_rels[i]);
		st->convs[i] = cr_make_column_conv(TupleDescAttr(st->tupdesc, i), st->defs[i]);
		i++;
	}
}

/*
 * Where a pushed join's left joins null-extend (rows.c): per depth of the
 * walk, whether a nullable side begins there, and at the depth of its
 * deepest table, where it begins; the levels above the walk (the call
 * record) are never nulled.
 */
static void
set_bounds(CrScanState *st, List *join_bounds)
{
	int			d,
				i;

	for (d = 0; d < CR_NUM_LEVELS; d++)
	{
		st->depth_of[d] = -1;
		st->bound_of_end[d] = -1;
		st->bound_start[d] = false;
		st->matched[d] = true;
	}
	for (d = 0; d < st->nlevels; d++)
		st->depth_of[st->levels[d]] = d;
	st->null_from = -1;
	for (i = 0; i + 1 < list_length(join_bounds); i += 2)
	{
		int			start = st->depth_of[list_nth_int(join_bounds, i)];
		int			end = st->depth_of[list_nth_int(join_bounds, i + 1)];

		st->bound_start[start] = true;
		st->bound_of_end[end] = start;
	}
}

/*
 * The levels a page's rows are walked through: from the objects a page
 * lists (sessions for the tree below them, or the row objects themselves)
 * down to the table's level.
 */
static void
set_levels(CrScanState *st)
{
	CrLevel		chain[CR_NUM_LEVELS];
	CrLevel		l = st->res->level;
	int			n = 0,
				i;

	chain[n++] = l;
	if (st->res->fetch == CR_FETCH_RECORD_CHILDREN)
		while (cr_parent_level(l) != CR_LEVEL_RECORD)
			chain[n++] = l = cr_parent_level(l);
	for (i = 0; i < n; i++)
		st->levels[i] = chain[n - 1 - i];
	st->nlevels = n;
}

/*
 * What of a page of sessions the scan reads: the collections it walks,
 * and at each level the first component of every column's path (and the
 * ids, which the scan reads itself, and, while the scan learns the
 * tenant's shape, a call record's startDateTime).  Everything else is
 * dropped before parsing (prune.c).  Only the chains of sessions are pruned: their pages
 * are the large ones.
 */
static void
build_prune_spec(CrScanState *st)
{
	TupleDesc	tupdesc = st->tupdesc;
	CrPruneSpec *spec;
	int			i;

	if (!cr_prune_pages ||
		st->res->fetch != CR_FETCH_RECORD_CHILDREN || st->levels[0] != CR_LEVEL_SESSION)
		return;
	spec = palloc0(sizeof(CrPruneSpec));
	for (i = 0; i < st->nlevels; i++)
		spec->walked[st->levels[i]] = true;
	for (i = 0; i < CR_NUM_LEVELS; i++)
		spec->keep[i] = list_make1("id");
	/* a few bytes a record: the hour it started teaches shape.c */
	if (cr_learn_tenant_shape)
		spec->keep[CR_LEVEL_RECORD] = lappend(spec->keep[CR_LEVEL_RECORD], "startDateTime");
	for (i = 0; i < tupdesc->natts; i++)
	{
		const CrColumnDef *def = st->defs[i];

		if (def == NULL)
			continue;
		if (def->type == CR_GT_RAW)
			spec->keep_all[def->level] = true;
		else if (def->path)
			spec->keep[def->level] = lappend(spec->keep[def->level],
											 def->path[0] == '@' ? pstrdup(def->path) :
											 pnstrdup(def->path, strcspn(def->path, ".")));
	}
	st->prune = spec;
}

/*
 * The $select for call_records: the top-level properties the query reads,
 * so Graph sends only those.  NULL (every property) when the query reads
 * raw or a column with a path option of its own.
 */
static char *
record_select(CrScanState *st, List *retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(st->rel);
	List	   *props = list_make1(makeString("id"));
	StringInfoData buf;
	ListCell   *lc;

	if (st->res->fetch != CR_FETCH_RECORDS)
		return NULL;
	foreach(lc, retrieved_attrs)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, lfirst_int(lc) - 1);
		const CrColumnDef *def;
		char	   *top;

		if (attr->attisdropped)
			continue;
		def = cr_find_column(st->res, NameStr(attr->attname));
		if (def == NULL || def->type == CR_GT_RAW ||
			column_path_option(RelationGetRelid(st->rel), attr->attnum) != NULL)
			return NULL;
		top = pstrdup(def->path);
		if (strchr(top, '.'))
			*strchr(top, '.') = '\0';
		props = list_append_unique(props, makeString(top));
	}
	initStringInfo(&buf);
	foreach(lc, props)
		appendStringInfo(&buf, "%s%s", buf.len ? "," : "", strVal(lfirst(lc)));
	return buf.data;
}

/*
 * Set the scan up from its plan.  Nothing is fetched here: the pushed-down
 * values may be parameters known only at the first row.  EXPLAIN without
 * ANALYZE stops at EXPLAIN_ONLY with what explain.c reads, and never sees
 * the errors that only executing the scan should raise.
 */
void
cr_begin_foreign_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	CrScanState *st = palloc0(sizeof(CrScanState));
	MemoryContextCallback *cb;
	CrScanPlan	plan;
	Oid			check_as = cr_scan_check_as_user(fsplan, estate);
	Oid			userid = OidIsValid(check_as) ? check_as : GetUserId();

	node->fdw_state = st;
	st->scan_cxt = CurrentMemoryContext;
	cr_scan_plan_read(fsplan->fdw_private, &plan);
	st->relations = plan.relations;

	/*
	 * A pushed join has no relation of its own: its deepest table's
	 * options and name stand for it (the tables share server and user).
	 */
	if (plan.join_tables)
	{
		st->rel = relation_open(llast_oid(plan.join_tables), NoLock);
		st->rel_opened = true;
	}
	else
		st->rel = node->ss.ss_currentRelation;
	st->tupdesc = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	st->opts = cr_get_options(RelationGetRelid(st->rel), userid,
							  (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0);
	st->res = cr_table_resource(st->opts);
	st->roles = plan.roles;
	st->page_size_hint = plan.page_size_hint;
	st->expand_segments = plan.expand_segments;
	st->share_responses = plan.share_responses;
	st->limited = plan.limited;
	st->time_unpushed = plan.time_unpushed;
	st->est_requests = plan.requests;
	st->est_per_outer_row = plan.per_outer_row;
	st->outer_value = plan.outer_value >= 0 ? list_nth(fsplan->fdw_exprs, plan.outer_value) : NULL;
	st->cur_attr = -1;
	/*
	 * Scans that share responses with other scans of the statement fetch
	 * one page at a time: two scans asking ahead for the same page could
	 * both send the request before either answer is in the cache.
	 */
	cr_memory_start(st);
	cr_pacing_start(st);
	set_levels(st);
	set_bounds(st, plan.join_bounds);
	st->select = record_select(st, plan.retrieved_attrs);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	if (st->res->beta_only && strcmp(st->opts->api_version, "beta") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("resource \"%s\" exists only in the beta Graph API",
						st->res->name),
				 errhint("Use a server with OPTIONS (api_version 'beta').")));

	if (plan.join_tables)
		resolve_join_columns(st, fsplan->fdw_scan_tlist, estate, userid);
	else
		resolve_columns(st, plan.retrieved_attrs);
	build_prune_spec(st);
	st->value_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);

	st->page_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "callrecords_fdw page",
										 ALLOCSET_DEFAULT_SIZES);
	st->arena.cxt = AllocSetContextCreate(estate->es_query_cxt,
										  "callrecords_fdw page tree",
										  ALLOCSET_DEFAULT_SIZES);
	st->arena.big_cxt = AllocSetContextCreate(st->arena.cxt,
											  "callrecords_fdw page tree, large chunks",
											  ALLOCSET_DEFAULT_SIZES);
	st->tuple_cxt = AllocSetContextCreate(estate->es_query_cxt,
										  "callrecords_fdw tuple",
										  ALLOCSET_DEFAULT_SIZES);
	st->list_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "callrecords_fdw call record list",
										 ALLOCSET_SMALL_SIZES);
	st->chains_cxt = AllocSetContextCreate(st->scan_cxt,
										   "callrecords_fdw chains",
										   ALLOCSET_SMALL_SIZES);

	st->kept = cr_keep_begin(node, (eflags & EXEC_FLAG_REWIND) != 0);

	/* free the JSON trees however the query ends */
	cb = MemoryContextAlloc(st->scan_cxt, sizeof(MemoryContextCallback));
	cb->func = release_json;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->scan_cxt, cb);
}

/*
 * Move the cursor to the next row: on the page at hand, or on the next
 * page fetch.c brings, handed to rows.c.  False at the end.
 */
static bool
next_row(CrScanState *st)
{
	while (!cr_next_row(st))
	{
		cr_leave_page(st);
		if (!cr_next_page(st))
			return false;
		cr_take_page(st);
	}
	return true;
}

/*
 * The next row, or an empty slot at the end.  The chains are built at the
 * first row, when the parameters have their values.  Requests ahead are
 * topped up after each row, so Graph works while the executor does.  The
 * error context names the table, column and call record of a failure.
 */
TupleTableSlot *
cr_iterate_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ErrorContextCallback errcb;
	MemoryContext old;

	errcb.callback = scan_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	ExecClearTuple(slot);
	if (!st->chains_ready && !cr_keep_replaying(st->kept))
	{
		cr_build_chains(st, node->ss.ps.ps_ExprContext);
		/* a rescan asking for what the rows kept came from: they serve */
		if (st->kept == NULL ||
			!cr_keep_same_requests(st->kept, cr_chains_signature(st), node->ss.ps.ps_ExprContext))
		{
			cr_check_known_requests(st);
			if (st->concurrency > 1)
				cr_fill_prefetch(st);
		}
	}
	if (cr_keep_replaying(st->kept))
	{
		error_context_stack = errcb.previous;
		return cr_keep_next(st->kept, slot);
	}

	MemoryContextReset(st->tuple_cxt);
	if (next_row(st))
	{
		if (st->concurrency > 1 && (st->next_link || st->next_chain || st->fanout))
			cr_fill_prefetch(st);
		old = MemoryContextSwitchTo(st->tuple_cxt);
		cr_store_row(st, slot);
		MemoryContextSwitchTo(old);
		if (st->kept)
			cr_keep_row(st->kept, slot);
	}
	else if (st->kept)
		cr_keep_complete(st->kept);

	error_context_stack = errcb.previous;
	return slot;
}

/*
 * Start over.  With no parameter changed and every row kept, replay them
 * (keep.c); otherwise evaluate the values again at the first row, with
 * the chains of the previous run dropped (their context is reset) and the
 * requests started ahead for them cancelled: if they ask for what the
 * rows kept came from, those serve, else the scan fetches.
 */
void
cr_rescan_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	if (st->kept && cr_keep_rescan(st->kept, node->ss.ps.chgParam != NULL || st->batched))
		return;
	cr_drop_prefetch(st);

	release_json(st);
	if (st->next_link)
		pfree(st->next_link);
	st->next_link = NULL;
	st->chain = NULL;
	st->page_base = 0;
	st->chains_ready = false;
	st->fanout = false;
	if (st->list_link)
		pfree(st->list_link);
	st->list_link = NULL;
	st->list_paths = NIL;
	st->list_ids = NIL;
	st->list_link_ahead = false;
	st->waiting = false;

	/* nothing points into the chains now: the requests ahead are dropped */
	st->chains = NIL;
	st->next_chain = NULL;
	MemoryContextReset(st->chains_cxt);
}

/*
 * The inner scan of a batched join (batchjoin.c): the ids of the next
 * batch, in the caller's memory until the scan has read its first row.
 * The caller rescans the scan to fetch them.
 */
void
cr_scan_set_batch_keys(ForeignScanState *node, Datum keys)
{
	CrScanState *st = node->fdw_state;

	st->batch_keys = keys;
	st->batched = true;
}

/*
 * Release what the memory contexts do not: the malloc'd call record, the
 * transfers in flight and the tuplestore's temporary files.  The scan
 * state may be from an EXPLAIN without ANALYZE, which set up none of it.
 */
void
cr_end_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	if (st)
	{
		release_json(st);
		cr_drop_prefetch(st);
	}
	if (st)
		cr_keep_end(st->kept);
	if (st && st->rel_opened)
		relation_close(st->rel, NoLock);
}
