/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  Executing a scan: fetch the call record, walk its sessions page by
 *		  page as the executor asks for rows, and flatten the tree below
 *		  each session into rows of the table's level.
 *
 * Only one page of sessions is held at a time.  Its JSON tree (allocated
 * by jansson with malloc) is released before the next page is fetched, and
 * the body buffer lives in a memory context that is reset per page.  A
 * reset callback on the scan's context releases the trees when a query
 * fails or is cancelled, so an error never leaks them.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "callrecords_fdw.h"

#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "cr_json.h"

/* Names of the child arrays, by the level of their elements. */
static const char *const cr_child_key[CR_NUM_LEVELS] = {
	NULL, "sessions", "segments", "media", "streams"
};

/* Execution state of one foreign scan. */
typedef struct CrScanState
{
	CrOptions  *opts;
	const CrResource *res;
	Relation	rel;

	/* per attribute (0-based); NULL where the query does not read it */
	const CrColumnDef **defs;
	CrColumnConv **convs;

	/* call record ids: expressions, and their values once evaluated */
	List	   *id_exprstates;
	List	   *ids;			/* of char *, distinct */
	ListCell   *next_id;
	bool		ids_ready;

	/* the call record being read */
	char	   *record_id;		/* for messages */
	json_t	   *record;			/* its properties without the sessions */
	char	   *next_link;		/* next sessions page, or NULL */
	int64		session_base;	/* sessions on the pages before this one */

	/* the current page and the cursor into its tree */
	MemoryContext page_cxt;
	json_t	   *page;
	json_t	   *arr[CR_NUM_LEVELS];
	json_t	   *obj[CR_NUM_LEVELS];
	int64		pos[CR_NUM_LEVELS];

	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext tuple_cxt;	/* reset per row */
	int			cur_attr;		/* attribute being converted, or -1 */
	CrScanStats stats;
} CrScanState;

/* Drop the JSON trees; safe to call twice. */
static void
release_json(void *arg)
{
	CrScanState *st = (CrScanState *) arg;

	if (st->page)
		json_decref(st->page);
	if (st->record)
		json_decref(st->record);
	st->page = NULL;
	st->record = NULL;
	memset(st->arr, 0, sizeof(st->arr));
	memset(st->obj, 0, sizeof(st->obj));
}

/* Adds which column and call record a failure happened at. */
static void
scan_error_callback(void *arg)
{
	CrScanState *st = (CrScanState *) arg;
	const char *relname = RelationGetRelationName(st->rel);

	if (st->cur_attr >= 0)
		errcontext("column \"%s\" of foreign table \"%s\", call record \"%s\"",
				   NameStr(TupleDescAttr(RelationGetDescr(st->rel), st->cur_attr)->attname),
				   relname, st->record_id ? st->record_id : "?");
	else if (st->record_id)
		errcontext("foreign table \"%s\", call record \"%s\"",
				   relname, st->record_id);
	else
		errcontext("foreign table \"%s\"", relname);
}

/*
 * Resolve each column the query reads against the catalogue, failing
 * early for a name the resource does not have (a column that silently
 * stayed NULL would be a wrong answer).
 */
static void
resolve_columns(CrScanState *st, List *retrieved_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(st->rel);
	ListCell   *lc;

	st->defs = palloc0(sizeof(CrColumnDef *) * tupdesc->natts);
	st->convs = palloc0(sizeof(CrColumnConv *) * tupdesc->natts);
	foreach(lc, retrieved_attrs)
	{
		int			i = lfirst_int(lc) - 1;
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		const CrColumnDef *def;

		if (attr->attisdropped)
			continue;
		def = cr_find_column(st->res, NameStr(attr->attname));
		if (def == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" is not a property of resource \"%s\"",
							NameStr(attr->attname), RelationGetRelationName(st->rel),
							st->res->name),
					 errhint("IMPORT FOREIGN SCHEMA callrecords creates the tables with every known column.")));
		st->defs[i] = def;
		st->convs[i] = cr_make_column_conv(attr, def);
	}
}

void
cr_begin_foreign_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	Oid			userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	CrScanState *st = palloc0(sizeof(CrScanState));
	MemoryContextCallback *cb;

	node->fdw_state = st;
	st->scan_cxt = CurrentMemoryContext;
	st->rel = node->ss.ss_currentRelation;
	st->opts = cr_get_options(RelationGetRelid(st->rel), userid);
	st->res = cr_table_resource(st->opts);
	st->cur_attr = -1;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	if (fsplan->fdw_exprs == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a scan of foreign table \"%s\" needs a condition on call_record_id",
						RelationGetRelationName(st->rel)),
				 errhint("Add WHERE call_record_id = '<call record id>' (a constant or a parameter) to the query.")));

	resolve_columns(st, lsecond(fsplan->fdw_private));
	st->id_exprstates = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);

	st->page_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "callrecords_fdw page",
										 ALLOCSET_DEFAULT_SIZES);
	st->tuple_cxt = AllocSetContextCreate(estate->es_query_cxt,
										  "callrecords_fdw tuple",
										  ALLOCSET_DEFAULT_SIZES);

	/* free the JSON trees however the query ends */
	cb = MemoryContextAlloc(st->scan_cxt, sizeof(MemoryContextCallback));
	cb->func = release_json;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->scan_cxt, cb);
}

/*
 * Evaluate the id expressions (constants or parameters) once per scan or
 * rescan; a NULL or repeated id is dropped.
 */
static void
evaluate_ids(CrScanState *st, ExprContext *econtext)
{
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_query_memory);

	st->ids = NIL;
	foreach(lc, st->id_exprstates)
	{
		bool		isnull;
		Datum		d = ExecEvalExpr((ExprState *) lfirst(lc), econtext, &isnull);
		char	   *id;

		if (isnull)
			continue;
		id = TextDatumGetCString(d);
		if (!list_member(st->ids, makeString(id)))
			st->ids = lappend(st->ids, makeString(id));
	}
	MemoryContextSwitchTo(old);
	st->next_id = list_head(st->ids);
	st->ids_ready = true;
}

/*
 * GET a Graph URL and parse its JSON object into st->page, after dropping
 * the previous page.  Returns false for a 404 when allow_404 is set.
 */
static bool
fetch_page(CrScanState *st, const char *url, bool allow_404)
{
	MemoryContext old;
	CrResponse	resp;
	json_error_t jerr;
	json_t	   *root;

	if (st->page)
		json_decref(st->page);
	st->page = NULL;
	MemoryContextReset(st->page_cxt);

	old = MemoryContextSwitchTo(st->page_cxt);
	cr_graph_get(st->opts, url, &resp, &st->stats);
	MemoryContextSwitchTo(old);

	if (resp.status == 404 && allow_404)
		return false;
	if (resp.status != 200)
		cr_report_graph_error(&resp, url);

	root = json_loadb(resp.body, resp.body_len, 0, &jerr);
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("could not parse Graph response as JSON"),
				 errdetail("%s at line %d, column %d.", jerr.text, jerr.line, jerr.column)));
	st->page = root;
	if (!json_is_object(root))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("Graph response is not a JSON object")));
	st->stats.pages++;
	MemoryContextReset(st->page_cxt);	/* the body is parsed; drop it */
	return true;
}

/*
 * Remember the next link of the page, after checking that it points at the
 * configured Graph host (the bearer token goes with it) and does not
 * repeat the link just followed (a loop would never end).
 */
static void
set_next_link(CrScanState *st, json_t *link)
{
	const char *url;
	char	   *prev = st->next_link;

	st->next_link = NULL;
	if (link == NULL || json_is_null(link))
	{
		if (prev)
			pfree(prev);
		return;
	}
	url = json_string_value(link);
	if (url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph next link is not a string")));
	if (!cr_same_origin(st->opts->graph_url, url))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to another host"),
				 errdetail("Next links must stay on graph_url; the link was not requested.")));
	if (prev && strcmp(prev, url) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned the same next link twice"),
				 errdetail("Paging would not end; the result would be incomplete.")));
	if (prev)
		pfree(prev);
	st->next_link = MemoryContextStrdup(st->scan_cxt, url);
}

/*
 * Count the sessions of the current page into session_base and forget the
 * cursor's pointers into it, before the page is released.
 */
static void
leave_page(CrScanState *st)
{
	if (st->arr[CR_LEVEL_SESSION])
		st->session_base += json_array_size(st->arr[CR_LEVEL_SESSION]);
	memset(st->arr, 0, sizeof(st->arr));
	memset(st->obj, 0, sizeof(st->obj));
}

/* Make arr the array of sessions of the page just fetched. */
static void
set_sessions(CrScanState *st, json_t *sessions)
{
	if (sessions != NULL && !json_is_null(sessions) && !json_is_array(sessions))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph sessions page holds no array of sessions")));
	st->arr[CR_LEVEL_SESSION] = json_is_array(sessions) ? sessions : NULL;
	st->pos[CR_LEVEL_SESSION] = -1;
}

/*
 * Fetch call record id with its first 60 sessions.  Its own properties are
 * kept (without the sessions) for the key columns of every later page.
 * Returns false if Graph does not know the id.
 */
static bool
start_record(CrScanState *st, const char *id)
{
	char	   *url;
	json_t	   *sessions;

	if (st->record)
		json_decref(st->record);
	st->record = NULL;
	st->record_id = (char *) id;
	leave_page(st);
	st->session_base = 0;

	url = psprintf("%s/%s/communications/callRecords/%s?$expand=sessions($expand=segments)",
				   st->opts->graph_url, st->opts->api_version, cr_url_escape(id));
	if (!fetch_page(st, url, true))
		return false;

	st->record = json_copy(st->page);
	if (st->record == NULL)
		elog(ERROR, "out of memory");
	json_object_del(st->record, "sessions");
	if (!json_is_string(json_object_get(st->record, "id")))
		json_object_set_new(st->record, "id", json_string(id));

	sessions = json_object_get(st->page, "sessions");
	set_sessions(st, sessions);
	set_next_link(st, json_object_get(st->page, "sessions@odata.nextLink"));
	return true;
}

/*
 * Load the next page of sessions: the next link of the current record, or
 * the next call record id.  Returns false when everything was read.
 */
static bool
next_session_page(CrScanState *st)
{
	while (st->next_link == NULL)
	{
		const char *id;

		if (st->next_id == NULL)
			return false;
		id = strVal(lfirst(st->next_id));
		st->next_id = lnext(st->ids, st->next_id);
		if (start_record(st, id))
			return true;
	}

	{
		char	   *url = pstrdup(st->next_link);

		leave_page(st);
		fetch_page(st, url, false);
		set_sessions(st, json_object_get(st->page, "value"));
		if (json_object_get(st->page, "value") == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("Graph sessions page holds no array of sessions")));
		set_next_link(st, json_object_get(st->page, "@odata.nextLink"));
		pfree(url);
	}
	return true;
}

/*
 * Move the cursor to the next object of a level, moving the levels above
 * when this one's array is used up.  Depth-first, so rows come in the
 * order Graph lists them.
 */
static bool
next_at(CrScanState *st, CrLevel level)
{
	for (;;)
	{
		json_t	   *arr = st->arr[level];

		if (arr != NULL && ++st->pos[level] < (int64) json_array_size(arr))
		{
			json_t	   *o = json_array_get(arr, st->pos[level]);

			if (!json_is_object(o))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("Graph %s array holds a non-object", cr_child_key[level])));
			st->obj[level] = o;
			return true;
		}

		if (level == CR_LEVEL_SESSION)
		{
			if (!next_session_page(st))
				return false;
			continue;
		}
		if (!next_at(st, level - 1))
			return false;

		arr = json_object_get(st->obj[level - 1], cr_child_key[level]);
		if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("Graph property \"%s\" is not an array", cr_child_key[level])));
		st->arr[level] = json_is_array(arr) ? arr : NULL;
		st->pos[level] = -1;
	}
}

/* Fill the slot from the objects the cursor is on. */
static void
store_row(CrScanState *st, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	int			i;

	for (i = 0; i < natts; i++)
	{
		const CrColumnDef *def = st->defs[i];

		slot->tts_isnull[i] = true;
		if (def == NULL)
			continue;
		st->cur_attr = i;
		if (def->type == CR_GT_POSITION)
		{
			int64		pos = st->pos[def->level] + 1;

			if (def->level == CR_LEVEL_SESSION)
				pos += st->session_base;
			slot->tts_values[i] = cr_convert_position(st->convs[i], pos);
			slot->tts_isnull[i] = false;
		}
		else
		{
			json_t	   *base = def->level == CR_LEVEL_RECORD ? st->record
				: st->obj[def->level];

			slot->tts_values[i] = cr_convert_value(st->convs[i],
												   cr_json_at_path(base, def->path),
												   &slot->tts_isnull[i]);
		}
	}
	st->cur_attr = -1;
	ExecStoreVirtualTuple(slot);
}

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
	if (!st->ids_ready)
		evaluate_ids(st, node->ss.ps.ps_ExprContext);

	MemoryContextReset(st->tuple_cxt);
	if (next_at(st, st->res->level))
	{
		old = MemoryContextSwitchTo(st->tuple_cxt);
		store_row(st, slot);
		MemoryContextSwitchTo(old);
	}

	error_context_stack = errcb.previous;
	return slot;
}

/* Start over: ids are evaluated again, since parameters may have changed. */
void
cr_rescan_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	release_json(st);
	if (st->next_link)
		pfree(st->next_link);
	st->next_link = NULL;
	st->record_id = NULL;
	st->session_base = 0;
	st->ids_ready = false;
}

void
cr_end_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	if (st)
		release_json(st);
}

/* The request as EXPLAIN shows it: "$1" for parameters, never a token. */
static char *
deparse_id(Node *expr)
{
	if (IsA(expr, Const))
		return cr_url_escape(TextDatumGetCString(((Const *) expr)->constvalue));
	if (IsA(expr, Param))
		return psprintf("$%d", ((Param *) expr)->paramid);
	return "?";
}

void
cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	CrScanState *st = node->fdw_state;
	ListCell   *lc;

	ExplainPropertyText("Graph resource", st->res->name, es);
	if (fsplan->fdw_exprs == NIL)
		ExplainPropertyText("Graph request", "none: needs call_record_id = <value>", es);
	foreach(lc, fsplan->fdw_exprs)
	{
		char	   *req = psprintf("GET /%s/communications/callRecords/%s?$expand=sessions($expand=segments)",
								   st->opts->api_version, deparse_id(lfirst(lc)));

		ExplainPropertyText("Graph request", req, es);
	}
	if (fsplan->fdw_exprs != NIL)
		ExplainPropertyText("Graph paging", "sessions@odata.nextLink, 60 sessions a page", es);

	if (es->analyze)
	{
		ExplainPropertyInteger("Graph requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("Graph pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("Graph bytes", NULL, st->stats.bytes, es);
		if (es->timing)
			ExplainPropertyFloat("Graph wait", "ms", st->stats.wait_ms, 3, es);
	}
}
