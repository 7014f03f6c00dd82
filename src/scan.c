/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  Executing a scan: turn the pushed-down values into request
 *		  chains, fetch their pages as the executor asks for rows, and
 *		  flatten the objects of each page into rows of the table's level.
 *
 * A request chain is a first request and the next links that follow it:
 * one per call record id, one for the call record list, one per time
 * window of a log function (or, without ids, one per call record of the
 * list).  Requests for the next page and for the next chains' first pages
 * are started ahead, up to max_concurrency.  Only one page is parsed at a
 * time.  Its JSON
 * tree (allocated by jansson with malloc) is released before the next page
 * is fetched, and the body buffer lives in a memory context that is reset
 * per page.  A reset callback on the scan's context releases the trees
 * when a query fails or is cancelled, so an error never leaks them.
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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "cr_json.h"

/* Graph serves at most this long a window per log function call. */
#define CR_MAX_WINDOW_USECS		((int64) 90 * USECS_PER_DAY)

/* How the first page of a chain holds its rows. */
typedef enum CrFirstPage
{
	CR_FIRST_EXPANDED_RECORD,	/* a call record; rows in its expanded child */
	CR_FIRST_SINGLE,			/* one object, which is the row */
	CR_FIRST_COLLECTION			/* "value" array, "@odata.nextLink" */
} CrFirstPage;

/* One request chain. */
typedef struct CrChain
{
	char	   *path;			/* first request, relative to graph_url */
	CrFirstPage first;
	char	   *record_id;		/* call record it reads, for messages */
	TimestampTz window_from;	/* log functions: the window asked for */
	TimestampTz window_to;
} CrChain;

/* Execution state of one foreign scan. */
/*
 * Where jansson puts the tree of a row page.  A page of 60 sessions is
 * some 100,000 small objects; taking them from a bump allocator and
 * dropping them all at once with the next page, instead of malloc'ing and
 * freeing each one, saves about a third of the time a page costs.  The
 * arena's allocator is installed only while a page is parsed (jansson's
 * allocator is global to the process), so nothing else ever frees into
 * it, and nothing outside the page may keep pointers into it: the call
 * record kept for the key columns is a deep copy.
 */
typedef struct CrArenaBlock
{
	struct CrArenaBlock *next;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CrArenaBlock;

typedef struct CrJsonArena
{
	MemoryContext cxt;			/* the blocks, kept from page to page */
	MemoryContext big_cxt;		/* large chunks, dropped with each page */
	CrArenaBlock *first;
	CrArenaBlock *cur;			/* block being filled, NULL before the first */
	char	   *next;			/* free space in it */
	char	   *end;
} CrJsonArena;

typedef struct CrScanState
{
	CrOptions  *opts;
	const CrResource *res;
	Relation	rel;
	char	   *select;			/* $select of call_records, or NULL */
	int			page_size_hint; /* Prefer: odata.maxpagesize, or 0 */
	bool		expand_segments;	/* sessions asked with their segments */
	bool		share_responses;	/* keep pages for other scans */
	bool		limited;		/* a LIMIT may stop the scan early */
	Datum		batch_keys;		/* a batched join's keys (text[]), set by it */
	bool		batched;		/* they stand in for the outer_value below */
	Node	   *outer_value;	/* the fdw_expr a parameterized path gets
								 * from its outer row, or NULL */

	/* per attribute (0-based); NULL where the query does not read it */
	const CrColumnDef **defs;
	CrColumnConv **convs;

	/* levels walked below a page: levels[0] holds the page's rows */
	CrLevel		levels[CR_NUM_LEVELS];
	int			nlevels;
	CrPruneSpec *prune;			/* what pages keep before parsing, or NULL */

	/* the pushed-down values and the chains they give */
	List	   *value_states;	/* ExprState per fdw_expr */
	List	   *roles;			/* CrQualRole per fdw_expr */
	List	   *chains;			/* of CrChain *, built at the first row */
	ListCell   *next_chain;
	bool		chains_ready;
	CrChain    *chain;			/* the chain being read */

	/* without ids, the tables below a call record list the records first */
	bool		fanout;
	char	   *list_link;		/* next page of the call record list */
	List	   *list_ids;		/* ids of the current list page */
	ListCell   *list_next;
	MemoryContext list_cxt;		/* reset per list page */

	/* the call record whose children are read */
	json_t	   *record;			/* its properties, without the children */
	char	   *next_link;		/* next page of the chain, or NULL */
	int64		page_base;		/* rows on the chain's earlier pages */

	/*
	 * Requests started ahead of need, in scan_cxt: the next page of the
	 * chain being read and the first pages of the chains after it, at most
	 * concurrency - 1 of them.  concurrency starts at max_concurrency,
	 * halves when Graph throttles and grows back by one per page.
	 */
	List	   *prefetch;		/* of CrFetch * */
	int			concurrency;
	bool		next_prefetched;	/* the next link is among them */
	int			chains_started; /* chains (or listed records) begun */
	int			chains_prefetched;	/* ... or asked for ahead */

	/* the current page and the cursor into its tree */
	MemoryContext page_cxt;
	CrJsonArena arena;			/* holds the page's tree */
	json_t	   *page;
	json_t	   *arr[CR_NUM_LEVELS];
	json_t	   *obj[CR_NUM_LEVELS];
	int64		pos[CR_NUM_LEVELS];

	/*
	 * Rows kept for rescans that change no parameter (the inner side of a
	 * nested loop): replayed instead of fetched and parsed again.  A
	 * tuplestore, so it spills to disk beyond work_mem.
	 */
	Tuplestorestate *replay;
	bool		replay_complete;	/* holds every row of the scan */
	bool		replaying;

	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext tuple_cxt;	/* reset per row */
	int			cur_attr;		/* attribute being converted, or -1 */
	CrScanStats stats;
} CrScanState;

static void fill_prefetch(CrScanState *st);

/* What a page is, for pruning: a call record with its children, or a collection of rows. */
typedef enum CrPageShape
{
	CR_PAGE_OTHER,				/* not pruned */
	CR_PAGE_RECORD,
	CR_PAGE_COLLECTION
} CrPageShape;

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

/* Adds which column and call record (or window) a failure happened at. */
static void
scan_error_callback(void *arg)
{
	CrScanState *st = (CrScanState *) arg;
	const char *relname = RelationGetRelationName(st->rel);
	const char *where = st->chain ? st->chain->record_id : NULL;

	if (st->cur_attr >= 0)
		errcontext("column \"%s\" of foreign table \"%s\"%s%s%s",
				   NameStr(TupleDescAttr(RelationGetDescr(st->rel), st->cur_attr)->attname),
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
 * Resolve each column the query reads: its "path" option if it has one,
 * else the catalogue entry of its name.  A name the resource does not have
 * is an error, since a column that silently stayed NULL would be a wrong
 * answer.
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
		const char *path;
		const CrColumnDef *def;

		if (attr->attisdropped)
			continue;
		path = column_path_option(RelationGetRelid(st->rel), attr->attnum);
		if (path)
		{
			CrColumnDef *d = palloc0(sizeof(CrColumnDef));

			d->name = pstrdup(NameStr(attr->attname));
			d->level = st->res->level;
			d->path = path;
			d->type = CR_GT_JSON;	/* nothing special: the declared type rules */
			def = d;
		}
		else
			def = cr_find_column(st->res, NameStr(attr->attname));
		if (def == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" is not a property of resource \"%s\"",
							NameStr(attr->attname), RelationGetRelationName(st->rel),
							st->res->name),
					 errhint("Use the column option \"path\" to map a column to a Graph property, or IMPORT FOREIGN SCHEMA callrecords to get every known column.")));
		st->defs[i] = def;
		st->convs[i] = cr_make_column_conv(attr, def);
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
 * ids, which the scan reads itself).  Everything else is dropped before
 * parsing (prune.c).  Only the chains of sessions are pruned: their pages
 * are the large ones.
 */
static void
build_prune_spec(CrScanState *st)
{
	TupleDesc	tupdesc = RelationGetDescr(st->rel);
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
	for (i = 0; i < tupdesc->natts; i++)
	{
		const CrColumnDef *def = st->defs[i];

		if (def == NULL)
			continue;
		if (def->type == CR_GT_RAW)
			spec->keep_all[st->res->level] = true;
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

void
cr_begin_foreign_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	Oid			userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	CrScanState *st = palloc0(sizeof(CrScanState));
	MemoryContextCallback *cb;
	int			outer;

	node->fdw_state = st;
	st->scan_cxt = CurrentMemoryContext;
	st->rel = node->ss.ss_currentRelation;
	st->opts = cr_get_options(RelationGetRelid(st->rel), userid);
	st->res = cr_table_resource(st->opts);
	st->roles = list_nth(fsplan->fdw_private, CrScanPrivateRoles);
	st->page_size_hint = intVal(list_nth(fsplan->fdw_private, CrScanPrivatePageSizeHint));
	st->expand_segments = intVal(list_nth(fsplan->fdw_private, CrScanPrivateExpandSegments)) != 0;
	st->share_responses = intVal(list_nth(fsplan->fdw_private, CrScanPrivateShareResponses)) != 0;
	st->limited = intVal(list_nth(fsplan->fdw_private, CrScanPrivateLimited)) != 0;
	outer = intVal(list_nth(fsplan->fdw_private, CrScanPrivateOuterValue));
	st->outer_value = outer >= 0 ? list_nth(fsplan->fdw_exprs, outer) : NULL;
	st->cur_attr = -1;
	/*
	 * Scans that share responses with other scans of the statement fetch
	 * one page at a time: two scans asking ahead for the same page could
	 * both send the request before either answer is in the cache.
	 */
	st->concurrency = st->share_responses ? 1 : st->opts->max_concurrency;
	set_levels(st);
	st->select = record_select(st, list_nth(fsplan->fdw_private, CrScanPrivateRetrievedAttrs));

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	if (st->res->beta_only && strcmp(st->opts->api_version, "beta") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("resource \"%s\" exists only in the beta Graph API",
						st->res->name),
				 errhint("Use a server with OPTIONS (api_version 'beta').")));

	resolve_columns(st, list_nth(fsplan->fdw_private, CrScanPrivateRetrievedAttrs));
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

	if (eflags & EXEC_FLAG_REWIND)
		st->replay = tuplestore_begin_heap(false, false, work_mem);

	/* free the JSON trees however the query ends */
	cb = MemoryContextAlloc(st->scan_cxt, sizeof(MemoryContextCallback));
	cb->func = release_json;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->scan_cxt, cb);
}

/*
 * The bounds of the time window: what the query asks for, widened by a
 * microsecond on the inclusive sides.  Graph keeps times to 100 ns and
 * PostgreSQL rounds them to the microsecond, so a row a fraction of a
 * microsecond outside the bound can still match it once rounded; the
 * local recheck drops what the widening adds.
 */
typedef struct CrTimeBounds
{
	bool		has_lower;
	TimestampTz lower;			/* send "from >= lower" */
	bool		has_upper;
	TimestampTz upper;			/* fetch rows before upper (or at it, */
	bool		upper_inclusive;	/* when upper_inclusive) */
} CrTimeBounds;

/* A bound as sent to Graph: inclusive ones widened by a microsecond. */
static TimestampTz
widened(CrQualRole role, TimestampTz t)
{
	if (role == CR_QUAL_TIME_GE)
		return t - 1;
	if (role == CR_QUAL_TIME_LE)
		return t + 1;
	return t;
}

static void
add_time_bound(CrTimeBounds *b, CrQualRole role, TimestampTz t)
{
	t = widened(role, t);
	switch (role)
	{
		case CR_QUAL_TIME_GE:
		case CR_QUAL_WINDOW_FROM:
		case CR_QUAL_TIME_GT:
			if (!b->has_lower || t > b->lower)
				b->lower = t;
			b->has_lower = true;
			break;
		case CR_QUAL_TIME_LE:
			/* rows up to t + 0.5 us round to t or less: fetch < t + 1 us */
		case CR_QUAL_TIME_LT:
		case CR_QUAL_WINDOW_TO:
			if (!b->has_upper || t < b->upper ||
				(t == b->upper && role != CR_QUAL_WINDOW_TO))
			{
				b->upper = t;
				b->upper_inclusive = (role == CR_QUAL_WINDOW_TO);
			}
			b->has_upper = true;
			break;
		default:
			break;
	}
}

static CrChain *
make_chain(char *path, CrFirstPage first, char *record_id)
{
	CrChain    *c = palloc0(sizeof(CrChain));

	c->path = path;
	c->first = first;
	c->record_id = record_id;
	return c;
}

/* Add the ids a key value names (one text, or an array of them). */
static List *
add_ids(List *ids, CrQualRole role, Datum d)
{
	if (role == CR_QUAL_KEY)
		return list_append_unique(ids, makeString(TextDatumGetCString(d)));
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				ids = list_append_unique(ids, makeString(TextDatumGetCString(elems[i])));
		return ids;
	}
}

/*
 * Log function calls covering the bounds, in windows of at most 90 days
 * that neither overlap nor leave a gap: where toDateTime is inclusive, a
 * window ends one 100 ns tick before the next one starts.
 */
static List *
function_chains(CrScanState *st, CrTimeBounds *b)
{
	List	   *chains = NIL;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz from,
				to;
	bool		to_inclusive;

	if (!b->has_upper)
	{
		b->upper = now;
		b->upper_inclusive = true;
	}
	if (!b->has_lower)
		b->lower = b->upper - CR_MAX_WINDOW_USECS;

	for (from = b->lower; from < b->upper || (from == b->upper && b->upper_inclusive);)
	{
		bool		last = (b->upper - from) <= CR_MAX_WINDOW_USECS;
		CrChain    *c;
		char	   *to_text;

		to = last ? b->upper : from + CR_MAX_WINDOW_USECS;
		to_inclusive = last ? b->upper_inclusive : false;
		if (!last && st->res->to_inclusive)
			to_text = cr_odata_timestamp(to, true); /* exact seam between windows */
		else if (st->res->to_inclusive || !to_inclusive)
			to_text = cr_odata_timestamp(to, false);	/* at most one instant more */
		else
			to_text = cr_odata_timestamp(to + 1, false);
		c = make_chain(cr_function_path(st->opts, st->res,
										cr_odata_timestamp(from, false), to_text),
					   CR_FIRST_COLLECTION, NULL);
		c->window_from = from;
		c->window_to = to;
		chains = lappend(chains, c);
		if (last)
			break;
		from = to;
	}
	return chains;
}

/*
 * Evaluate the pushed-down values (once per scan or rescan) and turn them
 * into the request chains of the scan.
 */
static void
build_chains(CrScanState *st, ExprContext *econtext)
{
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_query_memory);
	List	   *ids = NIL;
	bool		has_key = false;
	List	   *filters = NIL;
	CrTimeBounds bounds = {0};
	ListCell   *lv,
			   *lr;

	st->chains = NIL;
	forboth(lv, st->value_states, lr, st->roles)
	{
		CrQualRole	role = lfirst_int(lr);
		bool		isnull = false;
		Datum		d = st->batched && role == CR_QUAL_KEY_ARRAY ? st->batch_keys :
			ExecEvalExpr((ExprState *) lfirst(lv), econtext, &isnull);

		if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
		{
			has_key = true;
			if (!isnull)
				ids = add_ids(ids, role, d);
			continue;
		}
		if (role == CR_QUAL_PARTICIPANT)
		{
			if (!isnull)
				filters = lappend(filters, cr_participant_term(cr_odata_string(TextDatumGetCString(d))));
			continue;
		}
		if (isnull)
		{
			/* a comparison with NULL matches no row: fetch nothing */
			MemoryContextSwitchTo(old);
			st->chains_ready = true;
			st->next_chain = NULL;
			return;
		}
		add_time_bound(&bounds, role, DatumGetTimestampTz(d));
		if (st->res->fetch != CR_FETCH_FUNCTION)
		{
			TimestampTz t = widened(role, DatumGetTimestampTz(d));

			filters = lappend(filters, cr_filter_term(role, cr_odata_timestamp(t, false)));
		}
	}

	if (st->res->fetch == CR_FETCH_FUNCTION)
		st->chains = function_chains(st, &bounds);
	else if (has_key)
	{
		ListCell   *lc;

		foreach(lc, ids)
		{
			char	   *id = strVal(lfirst(lc));

			st->chains = lappend(st->chains,
								 make_chain(cr_record_path(st->opts, st->res, cr_url_escape(id),
														  st->select, st->expand_segments),
											st->res->fetch == CR_FETCH_RECORDS ?
											CR_FIRST_SINGLE : CR_FIRST_EXPANDED_RECORD,
											id));
		}
	}
	else if (st->res->fetch == CR_FETCH_RECORDS)
		st->chains = list_make1(make_chain(cr_list_path(st->opts, filters, st->select),
										   CR_FIRST_COLLECTION, NULL));
	else
	{
		/* list the call records (in the start time range), then each one */
		st->fanout = true;
		st->list_link = MemoryContextStrdup(st->scan_cxt,
											psprintf("%s%s", st->opts->graph_url,
													 cr_list_path(st->opts, filters, "id")));
		st->list_ids = NIL;
		st->list_next = NULL;
	}

	MemoryContextSwitchTo(old);
	st->next_chain = list_head(st->chains);
	st->chains_started = st->chains_prefetched = 0;
	st->chains_ready = true;
	if (st->concurrency > 1)
		fill_prefetch(st);
}

/*
 * Stop a runaway plan before it hammers Graph: the requests of all scans
 * of one statement count against the server's max_requests.  Pages served
 * from the statement's cache cost nothing.
 */
static TimestampTz budget_statement = 0;
static int64 budget_spent = 0;

/* Start counting afresh when a new statement begins. */
static void
budget_sync(void)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (budget_statement != now)
	{
		budget_statement = now;
		budget_spent = 0;
	}
}

static void
check_request_budget(CrScanState *st)
{
	budget_sync();
	if (budget_spent >= st->opts->max_requests)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("statement exceeds the Graph request budget of %d requests",
						st->opts->max_requests),
				 errdetail("Server \"%s\" allows max_requests %d per statement.",
						   GetForeignServer(st->opts->serverid)->servername,
						   st->opts->max_requests),
				 errhint("Narrow the query with conditions on call_record_id, start_date_time or call_start_date_time, or raise max_requests with ALTER SERVER.")));
}

/* Stop every request started ahead; their answers are not needed. */
static void
drop_prefetch(CrScanState *st)
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
 * Start a request for url ahead of need, if the concurrency allows.
 * Returns false when it did not (and should not be tried again yet).
 */
static bool
prefetch_url(CrScanState *st, const char *url)
{
	MemoryContext old;
	ListCell   *lc;
	int64		before = st->stats.requests;
	CrFetch    *f;

	if (list_length(st->prefetch) + 1 >= st->concurrency)
		return false;
	foreach(lc, st->prefetch)
		if (strcmp(cr_fetch_url(lfirst(lc)), url) == 0)
			return true;
	/* a request that may never be needed must not use up the budget */
	budget_sync();
	if (budget_spent + st->concurrency >= st->opts->max_requests)
		return false;
	old = MemoryContextSwitchTo(st->scan_cxt);
	f = cr_fetch_start(st->opts, url, st->page_size_hint, st->share_responses,
						   &st->stats);
	st->prefetch = lappend(st->prefetch, f);
	MemoryContextSwitchTo(old);
	budget_spent += st->stats.requests - before;
	return true;
}

/*
 * Adapt the concurrency to what Graph says: halve it when a request was
 * throttled, grow it back by one after a page that was not.
 */
static void
pace(CrScanState *st, const CrResponse *resp)
{
	if (resp->throttled > 0)
		st->concurrency = Max(1, st->concurrency / 2);
	else if (st->concurrency < st->opts->max_concurrency && !st->share_responses)
		st->concurrency++;
}

#define ARENA_BLOCK_SIZE (256 * 1024)
#define ARENA_BIG_CHUNK (32 * 1024)

static CrJsonArena *active_arena = NULL;	/* while a page is parsed */

/* jansson's allocator while a page is parsed; NULL tells it "no memory". */
static void *
arena_alloc(size_t size)
{
	CrJsonArena *a = active_arena;
	char	   *p;

	size = MAXALIGN(size);
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
static void
arena_reset(CrJsonArena *a)
{
	MemoryContextReset(a->big_cxt);
	a->cur = NULL;
	a->next = a->end = NULL;
}

/* jansson's allocator as it was before arena_enter(). */
typedef struct CrAllocFuncs
{
	json_malloc_t malloc_fn;
	json_free_t free_fn;
} CrAllocFuncs;

/*
 * Make the arena jansson's allocator until arena_leave().  What runs in
 * between is jansson alone, which never leaves by longjmp (the arena's
 * allocations do not ereport), so the process-wide allocator is always
 * put back.
 */
static void
arena_enter(CrJsonArena *a, CrAllocFuncs *saved)
{
	json_get_alloc_funcs(&saved->malloc_fn, &saved->free_fn);
	active_arena = a;
	json_set_alloc_funcs(arena_alloc, arena_free);
}

static void
arena_leave(const CrAllocFuncs *saved)
{
	json_set_alloc_funcs(saved->malloc_fn, saved->free_fn);
	active_arena = NULL;
}

/*
 * The text of a page without what the scan never reads, or NULL to parse
 * the page as it came (nothing to prune, or text the pruning pass does
 * not accept, which jansson then reports).  Pruning only ever shortens.
 */
static char *
prune_page(CrScanState *st, CrPageShape shape, const CrResponse *resp, size_t *len)
{
	StringInfoData out;

	if (st->prune == NULL || shape == CR_PAGE_OTHER || resp->body_len >= MaxAllocSize)
		return NULL;
	out.data = palloc(resp->body_len + 1);
	out.maxlen = resp->body_len + 1;
	resetStringInfo(&out);
	if (cr_prune_page(st->prune, shape == CR_PAGE_RECORD ? CR_LEVEL_RECORD : st->levels[0],
					  shape == CR_PAGE_COLLECTION, resp->body, resp->body_len, &out))
	{
		*len = out.len;
		return out.data;
	}
	pfree(out.data);
	return NULL;
}

/*
 * GET a Graph URL (a path joined to graph_url, or a next link) and parse
 * its JSON object; the caller owns the tree, which is in arena when one
 * is given (pruned first by shape).  A request started ahead for the URL
 * is used if there is one.  Returns NULL for a 404 when allow_404 is set.
 */
static json_t *
fetch_json(CrScanState *st, const char *url, bool allow_404, CrJsonArena *arena,
		   CrPageShape shape)
{
	CrResponse	resp;
	json_error_t jerr;
	json_t	   *root;
	CrFetch    *f = take_prefetched(st, url);
	int64		before;

	if (f == NULL)
	{
		MemoryContext old;

		check_request_budget(st);
		MemoryContextReset(st->page_cxt);
		old = MemoryContextSwitchTo(st->page_cxt);
		before = st->stats.requests;
		f = cr_fetch_start(st->opts, url, st->page_size_hint, st->share_responses,
						   &st->stats);
		MemoryContextSwitchTo(old);
		budget_spent += st->stats.requests - before;
	}
	before = st->stats.requests;
	cr_fetch_wait(f, &resp);
	budget_spent += st->stats.requests - before;
	pace(st, &resp);

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
		char	   *pruned = prune_page(st, shape, &resp, &pruned_len);

		/* a failure is reported with its position in the text Graph sent */
		arena_enter(arena, &saved);
		root = pruned ? json_loadb(pruned, pruned_len, 0, &jerr) : NULL;
		if (root == NULL)
			root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		arena_leave(&saved);
		st->stats.parsed_bytes += pruned ? pruned_len : resp.body_len;
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
fetch_page(CrScanState *st, const char *url, bool allow_404, CrPageShape shape)
{
	st->page = NULL;
	arena_reset(&st->arena);
	st->page = fetch_json(st, url, allow_404, &st->arena, shape);
	return st->page != NULL;
}

/*
 * The next link of a page as a string in the scan's context, after
 * checking that it points at the configured Graph host (the bearer token
 * goes with it) and does not repeat the link just followed, prev (a loop
 * would never end).  NULL when the page is the last.
 */
static char *
checked_next_link(CrScanState *st, json_t *link, const char *prev)
{
	const char *url;

	if (link == NULL || json_is_null(link))
		return NULL;
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
	return MemoryContextStrdup(st->scan_cxt, url);
}

/* Remember the next link of the row page. */
static void
set_next_link(CrScanState *st, json_t *link)
{
	char	   *prev = st->next_link;

	st->next_link = checked_next_link(st, link, prev);
	st->next_prefetched = false;
	if (prev)
		pfree(prev);
}

/*
 * Count the rows of the current page into page_base and forget the
 * cursor's pointers into it, before the page is released.
 */
static void
leave_page(CrScanState *st)
{
	if (st->arr[st->levels[0]])
		st->page_base += json_array_size(st->arr[st->levels[0]]);
	memset(st->arr, 0, sizeof(st->arr));
	memset(st->obj, 0, sizeof(st->obj));
}

/* What a page lists, for messages: "sessions", "participants_v2", "rows". */
static const char *
page_rows_name(CrScanState *st)
{
	const char *key = cr_child_key(st->levels[0]);

	return (key && st->res->fetch == CR_FETCH_RECORD_CHILDREN) ? key : "rows";
}

/* Make rows the array of row objects of the page just fetched. */
static void
set_rows(CrScanState *st, json_t *rows)
{
	CrLevel		l = st->levels[0];

	if (rows != NULL && !json_is_null(rows) && !json_is_array(rows))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of %s", page_rows_name(st))));
	st->arr[l] = json_is_array(rows) ? rows : NULL;
	st->pos[l] = -1;
}

/* The rows of a collection page: its "value", which must be an array. */
static void
set_collection_rows(CrScanState *st)
{
	json_t	   *value = json_object_get(st->page, "value");

	if (value == NULL || !json_is_array(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of %s", page_rows_name(st))));
	set_rows(st, value);
}

/*
 * Whether a key of an object at level holds or annotates one of its child
 * collections, or is an "@odata.context" annotation, which describes the
 * response (and names the host it came from) rather than the object.
 */
static bool
is_response_key(const char *key, CrLevel level)
{
	size_t		len = strlen(key);
	CrLevel		l;

	if (len >= 14 && strcmp(key + len - 14, "@odata.context") == 0)
		return true;
	for (l = 0; l < CR_NUM_LEVELS; l++)
	{
		const char *child = cr_child_key(l);
		size_t		clen;

		if (cr_parent_level(l) != level || child == NULL)
			continue;
		clen = strlen(child);
		if (strncmp(key, child, clen) == 0 &&
			(key[clen] == '\0' || strcmp(key + clen, "@odata.nextLink") == 0))
			return true;
	}
	return false;
}

/*
 * An object's own properties, without its child collections and response
 * annotations.  A deep copy outlives the page (whose arena it does not
 * point into); a shallow one shares the values and must be released
 * before the page is.
 */
static json_t *
without_children(json_t *obj, CrLevel level, bool deep)
{
	/* json_copy, not json_object(): that name is PostgreSQL's at run time */
	json_t	   *copy = json_copy(obj);
	const char *key;
	json_t	   *value;
	void	   *tmp;

	if (copy == NULL)
		elog(ERROR, "out of memory");
	json_object_foreach_safe(copy, tmp, key, value)
	{
		if (is_response_key(key, level))
			json_object_del(copy, key);
		else if (deep && json_object_set_new(copy, key, json_deep_copy(value)) != 0)
		{
			json_decref(copy);
			elog(ERROR, "out of memory");
		}
	}
	return copy;
}

/*
 * Read the first page of a chain.  A call record of a child table is kept
 * (without its children) for the key columns of every later page.
 * Returns false if Graph does not know the call record.
 */
static bool
start_chain(CrScanState *st, CrChain *c)
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
												   cr_url_escape(c->record_id),
												   NULL, true));

		if (cr_graph_cached(st->opts, full, st->page_size_hint))
			url = full;
	}

	if (st->record)
		json_decref(st->record);
	st->record = NULL;
	st->chain = c;
	leave_page(st);
	st->page_base = 0;

	if (!fetch_page(st, url, c->first != CR_FIRST_COLLECTION,
					c->first == CR_FIRST_EXPANDED_RECORD ? CR_PAGE_RECORD :
					c->first == CR_FIRST_COLLECTION ? CR_PAGE_COLLECTION : CR_PAGE_OTHER))
		return false;

	switch (c->first)
	{
		case CR_FIRST_EXPANDED_RECORD:
			{
				char		link_key[64];

				st->record = without_children(st->page, CR_LEVEL_RECORD, true);
				if (!json_is_string(json_object_get(st->record, "id")))
					json_object_set_new(st->record, "id", json_string(c->record_id));
				set_rows(st, json_object_get(st->page, cr_child_key(l)));
				snprintf(link_key, sizeof(link_key), "%s@odata.nextLink", cr_child_key(l));
				set_next_link(st, json_object_get(st->page, link_key));
				break;
			}
		case CR_FIRST_SINGLE:
			{
				/* the page becomes a one-element array holding the object */
				CrAllocFuncs saved;
				json_t	   *one;

				arena_enter(&st->arena, &saved);
				one = json_array();
				if (one != NULL && json_array_append(one, st->page) != 0)
					one = NULL;
				arena_leave(&saved);
				if (one == NULL)
					elog(ERROR, "out of memory");
				st->page = one;
				set_rows(st, one);
				set_next_link(st, NULL);
				break;
			}
		case CR_FIRST_COLLECTION:
			set_collection_rows(st);
			set_next_link(st, json_object_get(st->page, "@odata.nextLink"));
			break;
	}
	return true;
}

/*
 * Read the next page of the call record list and keep its ids; the page
 * itself is dropped at once.  Returns false at the end of the list.
 */
static bool
next_list_page(CrScanState *st)
{
	char	   *url = st->list_link;
	json_t	   *root;
	json_t	   *value;
	json_t	   *rec;
	size_t		i;
	MemoryContext old;

	if (url == NULL)
		return false;
	root = fetch_json(st, url, false, NULL, CR_PAGE_OTHER);
	value = json_object_get(root, "value");
	if (!json_is_array(value))
	{
		json_decref(root);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of call records")));
	}
	st->chain = NULL;			/* it lived in list_cxt */
	MemoryContextReset(st->list_cxt);
	old = MemoryContextSwitchTo(st->list_cxt);
	st->list_ids = NIL;
	json_array_foreach(value, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));

		if (id)
			st->list_ids = lappend(st->list_ids, pstrdup(id));
	}
	MemoryContextSwitchTo(old);
	st->list_next = list_head(st->list_ids);
	st->chains_started = st->chains_prefetched = 0;
	if (st->concurrency > 1)
		fill_prefetch(st);

	PG_TRY();
	{
		st->list_link = checked_next_link(st, json_object_get(root, "@odata.nextLink"), url);
	}
	PG_FINALLY();
	{
		json_decref(root);
	}
	PG_END_TRY();
	pfree(url);
	return true;
}

/*
 * Start the chain of the next listed call record.  Returns false when the
 * list is used up.
 */
static bool
next_listed_record(CrScanState *st)
{
	for (;;)
	{
		char	   *id;
		CrChain    *c;
		MemoryContext old;

		if (st->list_next == NULL)
		{
			if (!next_list_page(st))
				return false;
			continue;
		}
		id = lfirst(st->list_next);
		st->list_next = lnext(st->list_ids, st->list_next);
		st->chains_started++;
		old = MemoryContextSwitchTo(st->list_cxt);
		c = make_chain(cr_record_path(st->opts, st->res, cr_url_escape(id), NULL,
									  st->expand_segments),
					   CR_FIRST_EXPANDED_RECORD, id);
		MemoryContextSwitchTo(old);
		if (start_chain(st, c))
			return true;
	}
}

/*
 * Load the next page: the next link of the current chain, or the first
 * page of the next chain (or listed call record).  Returns false when
 * everything was read.
 */
static bool
next_page(CrScanState *st)
{
	char	   *url;

	while (st->next_link == NULL)
	{
		CrChain    *c;

		if (st->next_chain == NULL)
			return st->fanout && next_listed_record(st);
		c = lfirst(st->next_chain);
		st->next_chain = lnext(st->chains, st->next_chain);
		st->chains_started++;
		if (start_chain(st, c))
			return true;
	}

	url = pstrdup(st->next_link);
	leave_page(st);
	fetch_page(st, url, false, CR_PAGE_COLLECTION);
	set_collection_rows(st);
	set_next_link(st, json_object_get(st->page, "@odata.nextLink"));
	pfree(url);
	return true;
}

/*
 * Move the cursor to the next object at depth d of the walk, moving the
 * levels above when this one's array is used up.  Depth-first, so rows
 * come in the order Graph lists them.
 */
static bool
next_at(CrScanState *st, int d)
{
	CrLevel		level = st->levels[d];

	for (;;)
	{
		json_t	   *arr = st->arr[level];

		if (arr != NULL && ++st->pos[level] < (int64) json_array_size(arr))
		{
			json_t	   *o = json_array_get(arr, st->pos[level]);

			if (!json_is_object(o))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("Graph array of %s holds a non-object",
								cr_child_key(level) ? cr_child_key(level) : "rows")));
			st->obj[level] = o;
			return true;
		}

		if (d == 0)
		{
			if (!next_page(st))
				return false;
			continue;
		}
		if (!next_at(st, d - 1))
			return false;

		arr = json_object_get(st->obj[st->levels[d - 1]], cr_child_key(level));
		if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("Graph property \"%s\" is not an array", cr_child_key(level))));
		st->arr[level] = json_is_array(arr) ? arr : NULL;
		st->pos[level] = -1;
	}
}

/* The value of one column for the row the cursor is on. */
static Datum
column_value(CrScanState *st, int i, bool *isnull)
{
	const CrColumnDef *def = st->defs[i];
	CrColumnConv *conv = st->convs[i];
	json_t	   *base;

	*isnull = false;
	switch (def->type)
	{
		case CR_GT_POSITION:
			return cr_convert_position(conv, st->pos[def->level] + 1 +
									   (def->level == st->levels[0] ? st->page_base : 0));
		case CR_GT_WINDOW_FROM:
			return cr_convert_timestamp(conv, st->chain->window_from);
		case CR_GT_WINDOW_TO:
			return cr_convert_timestamp(conv, st->chain->window_to);
		case CR_GT_RAW:
			{
				json_t	   *copy = without_children(st->obj[st->res->level], st->res->level, false);
				Datum		d;

				PG_TRY();
				{
					d = cr_convert_value(conv, copy, isnull);
				}
				PG_FINALLY();
				{
					json_decref(copy);
				}
				PG_END_TRY();
				return d;
			}
		default:
			break;
	}
	base = (def->level == CR_LEVEL_RECORD && st->res->level != CR_LEVEL_RECORD) ?
		st->record : st->obj[def->level];
	return cr_convert_value(conv, cr_json_at_path(base, def->path), isnull);
}

/* Fill the slot from the objects the cursor is on. */
static void
store_row(CrScanState *st, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	int			i;

	for (i = 0; i < natts; i++)
	{
		slot->tts_isnull[i] = true;
		if (st->defs[i] == NULL)
			continue;
		st->cur_attr = i;
		slot->tts_values[i] = column_value(st, i, &slot->tts_isnull[i]);
	}
	st->cur_attr = -1;
	ExecStoreVirtualTuple(slot);
}

/*
 * Keep requests in flight while rows are made: the first pages of the
 * chains (or listed call records) that come next, and the next page of
 * this chain.  Under a LIMIT the next page is asked for only once half of
 * the current one is used, so a query that stops early does not ask for
 * pages it never reads.
 */
static void
fill_prefetch(CrScanState *st)
{
	json_t	   *rows = st->arr[st->levels[0]];
	List	   *upcoming = st->fanout ? st->list_ids : st->chains;
	int			i;


	if (st->next_link && !st->next_prefetched && rows && st->page_size_hint == 0 &&
		(!st->limited || st->pos[st->levels[0]] + 1 >= (int64) json_array_size(rows) / 2))
	{
		st->next_prefetched = prefetch_url(st, st->next_link);
	}
	for (i = Max(st->chains_started, st->chains_prefetched);
		 i < list_length(upcoming) && list_length(st->prefetch) + 1 < st->concurrency;
		 i++)
	{
		const char *path = st->fanout ?
			cr_record_path(st->opts, st->res, cr_url_escape(list_nth(upcoming, i)),
						   NULL, st->expand_segments) :
			((CrChain *) list_nth(upcoming, i))->path;

		if (!prefetch_url(st, psprintf("%s%s", st->opts->graph_url, path)))
			break;
		st->chains_prefetched = i + 1;
	}
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
	if (st->replaying)
	{
		error_context_stack = errcb.previous;
		if (!tuplestore_gettupleslot(st->replay, true, false, slot))
			ExecClearTuple(slot);
		return slot;
	}
	if (!st->chains_ready)
		build_chains(st, node->ss.ps.ps_ExprContext);

	MemoryContextReset(st->tuple_cxt);
	if (next_at(st, st->nlevels - 1))
	{
		if (st->concurrency > 1 && (st->next_link || st->next_chain || st->list_next))
			fill_prefetch(st);
		old = MemoryContextSwitchTo(st->tuple_cxt);
		store_row(st, slot);
		MemoryContextSwitchTo(old);
		if (st->replay)
			tuplestore_puttupleslot(st->replay, slot);
	}
	else if (st->replay)
		st->replay_complete = true;

	error_context_stack = errcb.previous;
	return slot;
}

/*
 * Start over.  With no parameter changed and every row kept, replay them;
 * otherwise evaluate the values again and fetch.
 */
void
cr_rescan_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	if (st->replay && st->replay_complete && node->ss.ps.chgParam == NULL)
	{
		tuplestore_rescan(st->replay);
		st->replaying = true;
		return;
	}
	st->replaying = false;
	st->replay_complete = false;
	if (st->replay)
		tuplestore_clear(st->replay);
	drop_prefetch(st);

	release_json(st);
	if (st->next_link)
		pfree(st->next_link);
	st->next_link = NULL;
	st->chain = NULL;
	st->page_base = 0;
	st->chains_ready = false;
	st->fanout = false;
	st->list_link = NULL;
	st->list_ids = NIL;
	st->list_next = NULL;
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

void
cr_end_foreign_scan(ForeignScanState *node)
{
	CrScanState *st = node->fdw_state;

	if (st)
	{
		release_json(st);
		drop_prefetch(st);
	}
	if (st && st->replay)
		tuplestore_end(st->replay);
}

/*
 * A pushed-down value as EXPLAIN shows it: a constant as Graph receives it,
 * anything else (a parameter, now() - interval ...) as its SQL text in
 * braces, with the widening that execution applies.
 */
static char *
explain_value(CrScanState *st, Node *expr, CrQualRole role)
{
	const char *margin = role == CR_QUAL_TIME_GE ? " - 1 µs" :
		role == CR_QUAL_TIME_LE ? " + 1 µs" : "";

	if (expr == st->outer_value)
		return "{value of the outer row}";
	if (IsA(expr, Param) && *margin == '\0')
		return psprintf("$%d", ((Param *) expr)->paramid);
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		Const	   *c = (Const *) expr;

		if (c->consttype == TIMESTAMPTZOID)
			return cr_odata_timestamp(widened(role, DatumGetTimestampTz(c->constvalue)), false);
		if (c->consttype == TEXTOID || c->consttype == VARCHAROID)
			return cr_url_escape(TextDatumGetCString(c->constvalue));
	}
	return psprintf("{%s%s}", deparse_expression(expr, NIL, false, false), margin);
}

/* The requests of a scan over call records named by key values. */
static void
explain_key_requests(CrScanState *st, Node *expr, CrQualRole role, ExplainState *es)
{
	if (role == CR_QUAL_KEY_ARRAY && IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		List	   *ids = add_ids(NIL, role, ((Const *) expr)->constvalue);
		ListCell   *lc;

		foreach(lc, ids)
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_record_path(st->opts, st->res,
																  cr_url_escape(strVal(lfirst(lc))),
																  st->select, st->expand_segments)), es);
		return;
	}
	if (role == CR_QUAL_KEY_ARRAY && expr == st->outer_value)
	{
		ExplainPropertyText("Graph request",
							psprintf("GET %s, for each id of a batch of outer rows",
									 cr_record_path(st->opts, st->res, "{id}",
													st->select, st->expand_segments)), es);
		return;
	}
	if (role == CR_QUAL_KEY_ARRAY)
	{
		ExplainPropertyText("Graph request",
							psprintf("GET %s, for each element",
									 cr_record_path(st->opts, st->res,
													explain_value(st, expr, CR_QUAL_KEY),
													st->select, st->expand_segments)), es);
		return;
	}
	ExplainPropertyText("Graph request",
						psprintf("GET %s", cr_record_path(st->opts, st->res,
														  explain_value(st, expr, role),
														  st->select, st->expand_segments)), es);
}

/*
 * The log function calls of a scan.  With constant bounds they are the
 * exact requests, windows and all; otherwise a template with the SQL text
 * of the values.
 */
static void
explain_function_requests(CrScanState *st, List *exprs, ExplainState *es)
{
	CrTimeBounds bounds = {0};
	bool		all_const = true;
	char	   *from = NULL,
			   *to = NULL;
	ListCell   *le,
			   *lr;

	forboth(le, exprs, lr, st->roles)
	{
		Node	   *e = lfirst(le);

		if (IsA(e, Const) && !((Const *) e)->constisnull)
			add_time_bound(&bounds, lfirst_int(lr),
						   DatumGetTimestampTz(((Const *) e)->constvalue));
		else
			all_const = false;
	}

	if (all_const && bounds.has_upper)
	{
		ListCell   *lc;

		foreach(lc, function_chains(st, &bounds))
			ExplainPropertyText("Graph request",
								psprintf("GET %s", ((CrChain *) lfirst(lc))->path), es);
		return;
	}

	forboth(le, exprs, lr, st->roles)
	{
		CrQualRole	role = lfirst_int(lr);
		char	   *text = explain_value(st, lfirst(le), role);

		if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT || role == CR_QUAL_WINDOW_FROM)
			from = from ? psprintf("max(%s, %s)", from, text) : text;
		else
			to = to ? psprintf("min(%s, %s)", to, text) : text;
	}
	ExplainPropertyText("Graph request",
						psprintf("GET %s", cr_function_path(st->opts, st->res,
															from ? from : "{toDateTime - 90 days}",
															to ? to : "{now()}")), es);
	ExplainPropertyText("Graph window",
						psprintf("split into windows of at most 90 days at execution; toDateTime %s",
								 st->res->to_inclusive ? "inclusive" : "exclusive"), es);
}

void
cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	CrScanState *st = node->fdw_state;
	List	   *filters = NIL;
	bool		keyed = false;
	ListCell   *le,
			   *lr;

	ExplainPropertyText("Graph resource", st->res->name, es);

	if (st->res->fetch == CR_FETCH_FUNCTION)
		explain_function_requests(st, fsplan->fdw_exprs, es);
	else
	{
		forboth(le, fsplan->fdw_exprs, lr, st->roles)
		{
			CrQualRole	role = lfirst_int(lr);

			if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
			{
				explain_key_requests(st, lfirst(le), role, es);
				keyed = true;
			}
			else if (role == CR_QUAL_PARTICIPANT)
			{
				Node	   *e = lfirst(le);

				filters = lappend(filters, cr_participant_term(
															   IsA(e, Const) && !((Const *) e)->constisnull ?
															   cr_odata_string(TextDatumGetCString(((Const *) e)->constvalue)) :
															   explain_value(st, e, role)));
			}
			else
			{
				filters = lappend(filters, cr_filter_term(role, explain_value(st, lfirst(le), role)));
			}
		}
		if (!keyed)
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_list_path(st->opts, filters,
																st->res->fetch == CR_FETCH_RECORDS ?
																st->select : "id")), es);
		if (!keyed && st->res->fetch == CR_FETCH_RECORD_CHILDREN)
			ExplainPropertyText("Graph request",
								psprintf("GET %s, for each listed call record",
										 cr_record_path(st->opts, st->res, "{id}", NULL,
														st->expand_segments)), es);
		if (st->res->fetch == CR_FETCH_RECORD_CHILDREN)
			ExplainPropertyText("Graph paging",
								psprintf("%s@odata.nextLink, %d %s a page",
										 cr_child_key(st->levels[0]),
										 st->levels[0] == CR_LEVEL_PARTICIPANT ? 130 : 60,
										 cr_child_key(st->levels[0])), es);
	}

	if (st->page_size_hint > 0)
		ExplainPropertyText("Graph page size hint",
							psprintf("Prefer: odata.maxpagesize=%d (from LIMIT)", st->page_size_hint), es);

	if (es->analyze)
	{
		ExplainPropertyInteger("Graph requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("Graph pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("Graph bytes", NULL, st->stats.bytes, es);
		if (st->prune)
			ExplainPropertyInteger("Graph bytes parsed", NULL, st->stats.parsed_bytes, es);
		if (st->stats.cache_hits > 0)
			ExplainPropertyInteger("Graph pages from cache", NULL, st->stats.cache_hits, es);
		if (st->stats.retries > 0)
			ExplainPropertyInteger("Graph retries", NULL, st->stats.retries, es);
		if (st->stats.retries > 0 && es->timing)
			ExplainPropertyFloat("Graph retry wait", "ms", st->stats.retry_wait_ms, 3, es);
		if (st->stats.rate_waits > 0)
			ExplainPropertyInteger("Graph requests held for rate limits", NULL, st->stats.rate_waits, es);
		if (st->stats.rate_waits > 0 && es->timing)
			ExplainPropertyFloat("Graph rate limit wait", "ms", st->stats.rate_wait_ms, 3, es);
		if (es->timing)
			ExplainPropertyFloat("Graph wait", "ms", st->stats.wait_ms, 3, es);
	}
}
