/*-------------------------------------------------------------------------
 *
 * keep.c
 *		  The rows a scan keeps for its rescans, so that a rescan costs the
 *		  rows it returns, not the pages of its call records again.
 *
 * A scan that may be rescanned keeps the rows of its last run, with the
 * requests that run made (cr_chains_signature).  A rescan that changes
 * no parameter replays them all.  A rescan whose parameters changed but
 * whose requests did not (the inner scan of a nested loop, parameterized
 * by call_record_id, whose other join columns session_index,
 * segment_index, media_index change from outer row to outer row, so that
 * Memoize, keyed by all of them, never hits) returns from the rows kept
 * only those whose columns equal the parameters of the scan's own
 * conditions ("col = $n" in its qual, looked up in a hash index of the
 * rows), so each outer row costs its share, never the whole record.
 *
 * Rules kept here: the qual still checks every row returned (the index
 * only narrows; a hash collision returns a row the qual then drops); rows
 * are kept in memory up to work_mem, and a run that needs more keeps none
 * (its rescans fetch, as without this); the rows of one run only, so
 * that rescans with ever new keys do not add up.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/keep.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "keep.h"

/* One "column = parameters" condition of the scan's qual. */
typedef struct CrProbe
{
	AttrNumber	attno;			/* the column, 1-based */
	FmgrInfo	col_hash;		/* hash function of the column's type */
	FmgrInfo	value_hash;		/* ... of the other side's, compatible */
	Oid			collation;
	ExprState  *value;			/* the side of parameters */
} CrProbe;

/* An index entry: the first row of those whose probe columns hash alike. */
typedef struct CrKeptBucket
{
	uint32		hash;
	int			head;
} CrKeptBucket;

struct CrKept
{
	MemoryContext cxt;			/* the rows of the run, the index */
	TupleTableSlot *slot;		/* a kept row on its way to the scan slot */
	List	   *probes;			/* of CrProbe *, in the scan's memory */
	char	   *requests;		/* what the run kept asked Graph for */
	MinimalTuple *rows;
	int			nrows;
	int			cap;
	Size		bytes;
	bool		keeping;		/* the current run's rows are being kept */
	bool		complete;		/* they are all kept */
	HTAB	   *index;			/* built at the first rescan that uses it */
	int		   *next_row;		/* per row: the next of its bucket, or -1 */
	/* the replay under way */
	bool		replaying;
	bool		all;			/* every row, in order (else: a bucket) */
	int			cursor;
	uint32		want;			/* the bucket's hash */
	/* for EXPLAIN ANALYZE */
	int64		rescans_served;
	int64		rows_served;
};

/* Strip binary-compatible relabelling. */
static Node *
strip(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* Whether an expression holds a parameter. */
static bool
has_param(Node *n, void *context)
{
	if (n == NULL)
		return false;
	if (IsA(n, Param))
		return true;
	return expression_tree_walker(n, has_param, context);
}

/*
 * The probe of a qual item "col = expression of parameters" with a
 * hashable equality, or NULL.
 */
static CrProbe *
make_probe(ForeignScanState *node, Expr *clause)
{
	OpExpr	   *op = (OpExpr *) clause;
	/* a pushed join's qual reads its scan tuple (fdw_scan_tlist) */
	Index		scanrelid = ((Scan *) node->ss.ps.plan)->scanrelid > 0 ?
		((Scan *) node->ss.ps.plan)->scanrelid : (Index) INDEX_VAR;
	Node	   *l,
			   *r;
	Var		   *var;
	Node	   *value;
	bool		var_left;
	RegProcedure lproc,
				rproc;
	CrProbe    *p;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return NULL;
	l = strip(linitial(op->args));
	r = strip(lsecond(op->args));
	var_left = IsA(l, Var) && (Index) ((Var *) l)->varno == scanrelid;
	var = (Var *) (var_left ? l : r);
	value = var_left ? (Node *) lsecond(op->args) : (Node *) linitial(op->args);
	if (!IsA(var, Var) || (Index) var->varno != scanrelid || var->varattno <= 0 ||
		contain_var_clause(value) || !has_param(value, NULL) ||
		contain_volatile_functions(value) ||
		!op_hashjoinable(op->opno, exprType(linitial(op->args))) ||
		!get_op_hash_functions(op->opno, &lproc, &rproc))
		return NULL;
	p = palloc0(sizeof(CrProbe));
	p->attno = var->varattno;
	fmgr_info(var_left ? lproc : rproc, &p->col_hash);
	fmgr_info(var_left ? rproc : lproc, &p->value_hash);
	p->collation = op->inputcollid;
	p->value = ExecInitExpr((Expr *) value, &node->ss.ps);
	return p;
}

/*
 * Set up what a scan keeps: always when it may be rescanned without a
 * change (rewind), and when it takes parameters (a rescan may change
 * them); NULL when neither.
 */
CrKept *
cr_keep_begin(ForeignScanState *node, bool rewind)
{
	Plan	   *plan = node->ss.ps.plan;
	CrKept	   *k;
	ListCell   *lc;

	if (!rewind && bms_is_empty(plan->extParam))
		return NULL;
	k = palloc0(sizeof(CrKept));
	k->cxt = AllocSetContextCreate(CurrentMemoryContext, "callrecords_fdw kept rows",
								   ALLOCSET_DEFAULT_SIZES);
	k->slot = MakeSingleTupleTableSlot(node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
									   &TTSOpsMinimalTuple);
	foreach(lc, plan->qual)
	{
		CrProbe    *p = make_probe(node, lfirst(lc));

		if (p)
			k->probes = lappend(k->probes, p);
	}
	k->keeping = true;
	return k;
}

/* Forget the rows kept (a new run begins, or the run needs too much). */
static void
forget(CrKept *k)
{
	MemoryContextReset(k->cxt);
	k->rows = NULL;
	k->nrows = k->cap = 0;
	k->bytes = 0;
	k->index = NULL;
	k->next_row = NULL;
	k->complete = false;
	k->requests = NULL;
}

/* Keep a row of the current run (the scan slot, just filled). */
void
cr_keep_row(CrKept *k, TupleTableSlot *slot)
{
	MemoryContext old;
	MinimalTuple tup;

	if (!k->keeping)
		return;
	old = MemoryContextSwitchTo(k->cxt);
	if (k->nrows == k->cap)
	{
		k->cap = Max(64, k->cap * 2);
		k->rows = k->rows ? repalloc(k->rows, sizeof(MinimalTuple) * k->cap) :
			palloc(sizeof(MinimalTuple) * k->cap);
	}
	tup = ExecCopySlotMinimalTuple(slot);
	k->rows[k->nrows++] = tup;
	k->bytes += tup->t_len;
	MemoryContextSwitchTo(old);
	if (k->bytes > (Size) work_mem * 1024)
	{
		k->keeping = false;
		forget(k);
	}
}

/* The run has returned its last row: the rows kept are all of them. */
void
cr_keep_complete(CrKept *k)
{
	if (k->keeping && !k->replaying)
		k->complete = true;
}

/*
 * A rescan.  With no parameter changed and every row kept, the rows are
 * replayed (true).  Otherwise the scan runs again, and the rows kept may
 * still serve if it asks for what the kept run asked for
 * (cr_keep_same_requests at its first row).
 */
bool
cr_keep_rescan(CrKept *k, bool params_changed)
{
	k->replaying = false;
	if (!params_changed && k->complete)
	{
		k->replaying = k->all = true;
		k->cursor = 0;
		k->rescans_served++;
		return true;
	}
	return false;
}

/* The hash of a kept row's probe columns; false if one is NULL (no match). */
static bool
row_hash(CrKept *k, MinimalTuple tup, uint32 *hash)
{
	ListCell   *lc;

	ExecStoreMinimalTuple(tup, k->slot, false);
	*hash = 0;
	foreach(lc, k->probes)
	{
		CrProbe    *p = lfirst(lc);
		bool		isnull;
		Datum		d = slot_getattr(k->slot, p->attno, &isnull);

		if (isnull)
			return false;
		*hash = hash_combine(*hash, DatumGetUInt32(FunctionCall1Coll(&p->col_hash,
																	  p->collation, d)));
	}
	return true;
}

/*
 * Index the rows kept by the hash of their probe columns; each bucket
 * chains its rows in the order Graph gave them.
 */
static void
build_index(CrKept *k)
{
	HASHCTL		ctl;
	int			i;

	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(CrKeptBucket);
	ctl.hcxt = k->cxt;
	k->index = hash_create("callrecords_fdw kept rows", Max(16, k->nrows), &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	k->next_row = MemoryContextAlloc(k->cxt, sizeof(int) * Max(1, k->nrows));
	for (i = k->nrows - 1; i >= 0; i--)
	{
		uint32		h;
		CrKeptBucket *b;
		bool		found;

		k->next_row[i] = -1;
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!row_hash(k, k->rows[i], &h))
			continue;
		b = hash_search(k->index, &h, HASH_ENTER, &found);
		k->next_row[i] = found ? b->head : -1;
		b->head = i;
	}
	ExecClearTuple(k->slot);
}

/*
 * At the first row after a rescan whose parameters changed, with the
 * requests the scan would now make: if they are those of the run kept,
 * its rows serve (true): the bucket of the probes' values, or all of them
 * when the qual has no probe.  Otherwise the scan fetches, and its rows
 * are kept in place of the old ones.
 */
bool
cr_keep_same_requests(CrKept *k, const char *requests, ExprContext *econtext)
{
	ListCell   *lc;
	CrKeptBucket *b;

	if (!(k->complete && k->requests && strcmp(k->requests, requests) == 0))
	{
		forget(k);
		k->keeping = true;
		k->requests = MemoryContextStrdup(k->cxt, requests);
		return false;
	}
	k->replaying = true;
	k->rescans_served++;
	k->all = k->probes == NIL;
	k->cursor = k->all ? 0 : -1;
	if (k->all)
		return true;
	k->want = 0;
	foreach(lc, k->probes)
	{
		CrProbe    *p = lfirst(lc);
		bool		isnull;
		Datum		d = ExecEvalExpr(p->value, econtext, &isnull);

		if (isnull)
			return true;		/* no row can match: the bucket stays empty */
		k->want = hash_combine(k->want, DatumGetUInt32(FunctionCall1Coll(&p->value_hash,
																		  p->collation, d)));
	}
	if (k->index == NULL)
		build_index(k);
	b = hash_search(k->index, &k->want, HASH_FIND, NULL);
	k->cursor = b ? b->head : -1;
	return true;
}

/* Whether the scan's rows come from the rows kept now. */
bool
cr_keep_replaying(CrKept *k)
{
	return k && k->replaying;
}

/*
 * The next row of the replay into the scan slot, or an empty slot.  The
 * kept tuples are minimal tuples, which the scan slot (a heap tuple slot)
 * cannot take: they go through a slot of their own.
 */
TupleTableSlot *
cr_keep_next(CrKept *k, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	int			i = k->cursor;

	if (i < 0 || i >= k->nrows)
		return ExecClearTuple(slot);
	k->cursor = k->all ? i + 1 : k->next_row[i];
	/* not a copy: the executor's memory around us is reset per row */
	ExecStoreMinimalTuple(k->rows[i], k->slot, false);
	slot_getallattrs(k->slot);
	memcpy(slot->tts_values, k->slot->tts_values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, k->slot->tts_isnull, natts * sizeof(bool));
	k->rows_served++;
	return ExecStoreVirtualTuple(slot);
}

/* What EXPLAIN ANALYZE says of the rescans served from kept rows. */
void
cr_keep_counts(CrKept *k, int64 *rescans, int64 *rows, int *probes)
{
	*rescans = k ? k->rescans_served : 0;
	*rows = k ? k->rows_served : 0;
	*probes = k ? list_length(k->probes) : 0;
}

/* Release the slot; the memory goes with the query's. */
void
cr_keep_end(CrKept *k)
{
	if (k)
		ExecDropSingleTupleTableSlot(k->slot);
}
