/*-------------------------------------------------------------------------
 *
 * batchexec.c
 *		  Running the batched join that batchjoin.c plans: read a batch of
 *		  outer rows, hand their distinct keys to the inner foreign scan as
 *		  one array, hash what it returns by key, and join each outer row.
 *
 * The rules this file keeps: every join clause is evaluated on each joined
 * row as a nested loop would (the hash lookup only skips inner rows whose
 * key differs byte for byte); a batch's outer rows and new keys live in
 * the batch context, reset with the next batch, and a key's inner rows
 * are fetched once and kept while they fit in work_mem; a LEFT join
 * null-extends an outer row no inner row joined; no backward scan (the
 * planner adds a Material where a cursor needs one); a rescan that
 * changes no parameter replays a batch that held every outer row.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/batchexec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cr_common.h"
#include "cr_scan.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/nodeCustom.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"
#include "utils/tuplestore.h"
#include "batchjoin_int.h"

/* A distinct key of the outer rows, and the inner rows fetched for it. */
typedef struct CrKeyEntry
{
	text	   *key;			/* hash key: detoasted, in the keys context */
	List	   *rows;			/* of MinimalTuple */
	bool		fetched;		/* by an earlier batch: not sent again */
} CrKeyEntry;

typedef struct CrBatchJoinState
{
	CustomScanState css;
	JoinType	jointype;
	AttrNumber	inner_key;
	int			nsources;
	int		   *sources;
	PlanState  *outer;
	PlanState  *inner;
	ForeignScanState *inner_scan;	/* inner, or below its gating Result */
	ExprState  *outer_key;		/* on the scan row with the outer side set */
	ExprState  *joinqual;		/* decides a match (LEFT: which rows join) */

	/* the keys seen and their inner rows, kept across batches */
	MemoryContext keys_cxt;
	HTAB	   *keys;
	bool		keys_stale;		/* a parameter changed: fetch anew */

	/* the batch */
	MemoryContext batch_cxt;	/* the batch's new keys and their array */
	Tuplestorestate *outer_rows;
	List	   *key_order;		/* new keys (CrKeyEntry *), first seen first */
	bool		batch_ready;
	bool		outer_done;		/* the outer side has no more rows */
	bool		one_batch;		/* every outer row is in this batch */
	bool		inner_used;		/* the inner scan ran before: rescan it */

	/* the outer row being joined */
	TupleTableSlot *outer_slot;
	TupleTableSlot *inner_slot;
	bool		have_outer;
	bool		matched;
	List	   *candidates;		/* inner rows of its key */
	int			next_candidate;

	int64		scan_batches;	/* batches since the last rescan */

	/* for EXPLAIN ANALYZE */
	int64		batches;
	int64		keys_sent;
} CrBatchJoinState;

static Node *cr_batch_create_state(CustomScan *cscan);
static void cr_batch_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *cr_batch_exec(CustomScanState *node);
static void cr_batch_end(CustomScanState *node);
static void cr_batch_rescan(CustomScanState *node);
static void cr_batch_explain(CustomScanState *node, List *ancestors, ExplainState *es);

const CustomScanMethods cr_batch_scan_methods = {
	.CustomName = CR_BATCH_JOIN_NAME,
	.CreateCustomScanState = cr_batch_create_state,
};
static const CustomExecMethods cr_batch_exec_methods = {
	.CustomName = CR_BATCH_JOIN_NAME,
	.BeginCustomScan = cr_batch_begin,
	.ExecCustomScan = cr_batch_exec,
	.EndCustomScan = cr_batch_end,
	.ReScanCustomScan = cr_batch_rescan,
	.ExplainCustomScan = cr_batch_explain,
};
/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
cr_batch_create_state(CustomScan *cscan)
{
	CrBatchJoinState *bj = palloc0(sizeof(CrBatchJoinState));

	NodeSetTag(bj, T_CustomScanState);
	bj->css.flags = cscan->flags;
	bj->css.methods = &cr_batch_exec_methods;
	return (Node *) &bj->css;
}

/* Hash and compare keys by their bytes: what text equality means here. */
static uint32
key_hash(const void *key, Size keysize)
{
	text	   *t = *(text *const *) key;

	return hash_bytes((const unsigned char *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

static int
key_match(const void *a, const void *b, Size keysize)
{
	text	   *x = *(text *const *) a;
	text	   *y = *(text *const *) b;

	return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
		memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0 ? 0 : 1;
}

/*
 * BeginCustomScan: start both children.  Neither is asked to support
 * rewind, backward scan or mark: this node keeps the outer rows itself
 * and reads the inner side forward once per batch.
 */
static void
cr_batch_begin(CustomScanState *node, EState *estate, int eflags)
{
	CrBatchJoinState *bj = (CrBatchJoinState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	int			child_flags = eflags & ~(EXEC_FLAG_REWIND | EXEC_FLAG_BACKWARD | EXEC_FLAG_MARK);
	List	   *sources = list_nth(cscan->custom_private, CrBatchPrivateSources);
	ListCell   *lc;
	int			i = 0;

	bj->jointype = intVal(list_nth(cscan->custom_private, CrBatchPrivateJoinType));
	bj->inner_key = intVal(list_nth(cscan->custom_private, CrBatchPrivateInnerKey));
	bj->nsources = list_length(sources);
	bj->sources = palloc(sizeof(int) * Max(bj->nsources, 1));
	foreach(lc, sources)
		bj->sources[i++] = lfirst_int(lc);

	bj->outer = ExecInitNode(linitial(cscan->custom_plans), estate, child_flags);
	bj->inner = ExecInitNode(lsecond(cscan->custom_plans), estate, child_flags);
	node->custom_ps = list_make2(bj->outer, bj->inner);
	bj->inner_scan = (ForeignScanState *) bj->inner;
	while (IsA(bj->inner_scan, ResultState))
		bj->inner_scan = (ForeignScanState *) outerPlanState(bj->inner_scan);
	Assert(IsA(bj->inner_scan, ForeignScanState));

	bj->outer_key = ExecInitExpr(linitial(cscan->custom_exprs), &node->ss.ps);
	bj->joinqual = ExecInitQual(list_copy_tail(cscan->custom_exprs, 1), &node->ss.ps);
	bj->outer_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										ExecGetResultType(bj->outer), &TTSOpsMinimalTuple);
	bj->inner_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										ExecGetResultType(bj->inner), &TTSOpsMinimalTuple);
	bj->batch_cxt = AllocSetContextCreate(estate->es_query_cxt,
										  "callrecords_fdw batched join",
										  ALLOCSET_DEFAULT_SIZES);
	bj->keys_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "callrecords_fdw batched join keys",
										 ALLOCSET_DEFAULT_SIZES);
}

/*
 * Fill the scan row from an outer row and an inner row (NULL: the inner
 * side is null, for a LEFT join's unmatched rows and to compute the
 * outer key).
 */
static TupleTableSlot *
scan_row(CrBatchJoinState *bj, TupleTableSlot *outer, TupleTableSlot *inner)
{
	TupleTableSlot *slot = bj->css.ss.ss_ScanTupleSlot;
	int			i;

	ExecClearTuple(slot);
	slot_getallattrs(outer);
	if (inner)
		slot_getallattrs(inner);
	for (i = 0; i < bj->nsources; i++)
	{
		int			src = bj->sources[i];

		if (src > 0)
		{
			slot->tts_values[i] = outer->tts_values[src - 1];
			slot->tts_isnull[i] = outer->tts_isnull[src - 1];
		}
		else if (inner)
		{
			slot->tts_values[i] = inner->tts_values[-src - 1];
			slot->tts_isnull[i] = inner->tts_isnull[-src - 1];
		}
		else
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
	}
	return ExecStoreVirtualTuple(slot);
}

/* The key entry of an outer row, or NULL (a NULL key, or no such key). */
static CrKeyEntry *
outer_row_key(CrBatchJoinState *bj, TupleTableSlot *outer, bool enter)
{
	ExprContext *econtext = bj->css.ss.ps.ps_ExprContext;
	CrKeyEntry *entry;
	bool		isnull;
	bool		found;
	Datum		d;
	text	   *key;
	MemoryContext old;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = scan_row(bj, outer, NULL);
	d = ExecEvalExprSwitchContext(bj->outer_key, econtext, &isnull);
	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	key = DatumGetTextPP(d);
	MemoryContextSwitchTo(old);
	entry = hash_search(bj->keys, &key, enter ? HASH_ENTER : HASH_FIND, &found);
	if (enter && !found)
	{
		old = MemoryContextSwitchTo(bj->keys_cxt);
		entry->key = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(key));
		entry->rows = NIL;
		entry->fetched = false;
		MemoryContextSwitchTo(bj->batch_cxt);
		bj->key_order = lappend(bj->key_order, entry);
		MemoryContextSwitchTo(old);
	}
	return entry;
}

/*
 * An empty outer row store for the next batch.  The keys of earlier
 * batches and their inner rows are kept, so that a key repeated in a later
 * batch is not fetched again, while they fit in work_mem and no parameter
 * changed; past that the table starts empty.
 */
static void
reset_batch(CrBatchJoinState *bj)
{
	MemoryContextReset(bj->batch_cxt);
	bj->key_order = NIL;
	if (bj->keys == NULL || bj->keys_stale ||
		MemoryContextMemAllocated(bj->keys_cxt, true) > (Size) work_mem * 1024)
	{
		HASHCTL		ctl;

		MemoryContextReset(bj->keys_cxt);
		ctl.keysize = sizeof(text *);
		ctl.entrysize = sizeof(CrKeyEntry);
		ctl.hash = key_hash;
		ctl.match = key_match;
		ctl.hcxt = bj->keys_cxt;
		bj->keys = hash_create("callrecords_fdw batched join keys", 256, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		bj->keys_stale = false;
	}
	if (bj->outer_rows == NULL)
		bj->outer_rows = tuplestore_begin_heap(false, false, work_mem);
	else
		tuplestore_clear(bj->outer_rows);
}

/* Read up to CR_BATCH_ROWS outer rows, keeping them and their keys. */
static void
read_outer_batch(CrBatchJoinState *bj)
{
	int			n;

	for (n = 0; n < CR_BATCH_ROWS; n++)
	{
		TupleTableSlot *slot = ExecProcNode(bj->outer);

		if (TupIsNull(slot))
		{
			bj->outer_done = true;
			break;
		}
		tuplestore_puttupleslot(bj->outer_rows, slot);
		(void) outer_row_key(bj, slot, true);
	}
}

/*
 * Hand the batch's new distinct keys to the inner scan, and file the rows
 * it returns under their keys.  From the second batch on, the inner scan
 * is rescanned so that it builds its requests from the new keys.
 */
static void
fetch_inner_batch(CrBatchJoinState *bj)
{
	MemoryContext old = MemoryContextSwitchTo(bj->batch_cxt);
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(bj->key_order), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, bj->key_order)
		elems[n++] = PointerGetDatum(((CrKeyEntry *) lfirst(lc))->key);
	cr_scan_set_batch_keys(bj->inner_scan,
						   PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
														   TYPALIGN_INT)));
	MemoryContextSwitchTo(old);
	bj->keys_sent += n;

	if (bj->inner_used)
		ExecReScan(bj->inner);
	bj->inner_used = true;
	for (;;)
	{
		TupleTableSlot *slot = ExecProcNode(bj->inner);
		CrKeyEntry *entry;
		bool		isnull;
		Datum		d;
		text	   *key;

		if (TupIsNull(slot))
			break;
		d = slot_getattr(slot, bj->inner_key, &isnull);
		if (isnull)
			continue;
		key = DatumGetTextPP(d);
		entry = hash_search(bj->keys, &key, HASH_FIND, NULL);
		if (entry && !entry->fetched)
		{
			old = MemoryContextSwitchTo(bj->keys_cxt);
			entry->rows = lappend(entry->rows, ExecCopySlotMinimalTuple(slot));
			MemoryContextSwitchTo(old);
		}
		if ((Pointer) key != DatumGetPointer(d))
			pfree(key);
	}
	foreach(lc, bj->key_order)
		((CrKeyEntry *) lfirst(lc))->fetched = true;
}

/*
 * The next batch: outer rows, then (if they have new keys) the inner rows
 * of those.  False when the outer side is exhausted.
 */
static bool
next_batch(CrBatchJoinState *bj)
{
	if (bj->batch_ready && bj->outer_done)
		return false;
	reset_batch(bj);
	read_outer_batch(bj);
	if (bj->scan_batches > 0 && tuplestore_tuple_count(bj->outer_rows) == 0)
	{
		/* the last batch ended the outer side exactly: nothing more */
		bj->batch_ready = true;
		return false;
	}
	bj->one_batch = bj->scan_batches == 0 && bj->outer_done;
	bj->scan_batches++;
	bj->batches++;
	if (bj->key_order != NIL)
		fetch_inner_batch(bj);
	bj->batch_ready = true;
	tuplestore_rescan(bj->outer_rows);
	return true;
}

/*
 * The access method for ExecScan: the next joined row that passes the
 * join clauses, or a LEFT join's null-extended row for an outer row with
 * no match.  ExecScan then checks the other clauses and projects.
 */
static TupleTableSlot *
next_joined_row(ScanState *ss)
{
	CrBatchJoinState *bj = (CrBatchJoinState *) ss;
	ExprContext *econtext = ss->ps.ps_ExprContext;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (!bj->have_outer)
		{
			CrKeyEntry *entry;

			if (!bj->batch_ready ||
				!tuplestore_gettupleslot(bj->outer_rows, true, false, bj->outer_slot))
			{
				if (!next_batch(bj))
					return ExecClearTuple(ss->ss_ScanTupleSlot);
				continue;
			}
			entry = outer_row_key(bj, bj->outer_slot, false);
			bj->candidates = entry ? entry->rows : NIL;
			bj->next_candidate = 0;
			bj->have_outer = true;
			bj->matched = false;
		}
		while (bj->next_candidate < list_length(bj->candidates))
		{
			MinimalTuple mt = list_nth(bj->candidates, bj->next_candidate++);

			ExecStoreMinimalTuple(mt, bj->inner_slot, false);
			ResetExprContext(econtext);
			econtext->ecxt_scantuple = scan_row(bj, bj->outer_slot, bj->inner_slot);
			if (bj->joinqual == NULL || ExecQual(bj->joinqual, econtext))
			{
				bj->matched = true;
				return econtext->ecxt_scantuple;
			}
		}
		bj->have_outer = false;
		if (!bj->matched && bj->jointype == JOIN_LEFT)
			return scan_row(bj, bj->outer_slot, NULL);
	}
}

/* Every row the access method returns is final: nothing to recheck. */
static bool
recheck_joined_row(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
cr_batch_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, next_joined_row, recheck_joined_row);
}

/*
 * Start over.  With no parameter changed and every outer row in the one
 * batch held, replay it from memory; otherwise read the outer side again
 * (rescanned here unless a changed parameter will rescan it anyway) and
 * fetch again.
 */
static void
cr_batch_rescan(CustomScanState *node)
{
	CrBatchJoinState *bj = (CrBatchJoinState *) node;

	bj->have_outer = false;
	if (bj->batch_ready && bj->one_batch && node->ss.ps.chgParam == NULL)
	{
		tuplestore_rescan(bj->outer_rows);
		return;
	}
	if (bj->outer->chgParam == NULL)
		ExecReScan(bj->outer);
	/* the inner rows of a key may differ under other parameters */
	if (node->ss.ps.chgParam != NULL)
		bj->keys_stale = true;
	bj->batch_ready = false;
	bj->outer_done = false;
	bj->one_batch = false;
	bj->scan_batches = 0;
}

static void
cr_batch_end(CustomScanState *node)
{
	CrBatchJoinState *bj = (CrBatchJoinState *) node;

	ExecEndNode(bj->outer);
	ExecEndNode(bj->inner);
	if (bj->outer_rows)
		tuplestore_end(bj->outer_rows);
	bj->outer_rows = NULL;
}

/*
 * EXPLAIN: what the node is, the clauses that decide a match, and that
 * the inner scan gets the outer keys as one array per batch.
 */
static void
cr_batch_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	CrBatchJoinState *bj = (CrBatchJoinState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan, ancestors);
	List	   *joinquals = list_copy_tail(cscan->custom_exprs, 1);
	int			jointype = intVal(list_nth(cscan->custom_private, CrBatchPrivateJoinType));

	ExplainPropertyText("Join Type", jointype == JOIN_LEFT ? "Left" : "Inner", es);
	if (joinquals)
		ExplainPropertyText("Join Filter",
							deparse_expression((Node *) make_ands_explicit(joinquals),
											   context, true, false), es);
	ExplainPropertyText("Outer keys",
						psprintf("distinct values of %s, handed to the inner scan as one array per %d outer rows",
								 deparse_expression(linitial(cscan->custom_exprs), context, true, false),
								 CR_BATCH_ROWS), es);
	if (es->analyze)
	{
		ExplainPropertyInteger("Batches", NULL, bj->batches, es);
		ExplainPropertyInteger("Keys sent", NULL, bj->keys_sent, es);
	}
}
