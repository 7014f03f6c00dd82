/*-------------------------------------------------------------------------
 *
 * batchjoin.c
 *		  Planning the batched join: local rows joined to a table fetched
 *		  per call record, with the outer rows' ids handed to the foreign
 *		  scan as one array, so that they are fetched concurrently and each
 *		  once.  batchexec.c runs the plan this file makes.
 *
 * Without it, "my_calls m JOIN cr.streams s ON s.call_record_id = m.id" is
 * a nested loop over a parameterized scan: one request chain per outer
 * row, one after another.  The batched join reads a batch of outer rows
 * (kept in a tuplestore), collects their distinct non-null keys, hands
 * them to the inner foreign scan as one text[] value of role
 * CR_QUAL_KEY_ARRAY (what "= ANY (ARRAY(SELECT ...))" gives it, so
 * scan.c fetches each id once, max_concurrency at a time), reads all
 * inner rows into a hash table keyed by the key text, and then joins each
 * outer row, in the outer order, to the inner rows of its key.
 *
 * The keys travel through cr_scan_set_batch_keys and a rescan of the
 * inner scan, not through an executor Param: finalize_plan accepts in a
 * plan only the Params some node is known to set (outer query levels,
 * initPlans, a nested loop's), and a custom node's Param would be taken
 * for one of the enclosing query level's and fail there.
 *
 * The rules this file keeps:
 *
 *	- The join is only a different way of fetching.  Every join clause,
 *	  the key clause included, is evaluated on each joined row as a nested
 *	  loop would, and the inner scan keeps all of its own conditions; the
 *	  hash lookup only skips inner rows whose key differs byte for byte,
 *	  which the key clause (text equality, deterministic collation) would
 *	  reject anyway.
 *	- It is offered only where the parameterized path would be (plan.c's
 *	  cr_batch_key says so), for INNER and LEFT joins with a clause
 *	  "inner.key = <expression of the outer rel only>", and it is costed
 *	  with plan.c's per-id cost: requests of the distinct outer keys in
 *	  rounds of max_concurrency.  Where the inner scan fetches one page at
 *	  a time (it shares responses with other scans of the statement) there
 *	  is nothing to gain, and the cost says so.
 *	- The scan tuple is described by custom_scan_tlist (scanrelid 0): one
 *	  column per Var of the join rel and of its clauses, each taken from
 *	  the outer or the inner child's row (a parent may give the join a
 *	  target list of its own after planning it); ExecScan evaluates the
 *	  other conditions and projects.
 *	- No backward scan or mark/restore: the planner puts a Material above
 *	  it where a cursor needs one.  A rescan that changes no parameter
 *	  replays the batch when all outer rows fitted in one.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/batchjoin.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cr_common.h"
#include "cr_plan.h"

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
#include "plan_int.h"

static set_join_pathlist_hook_type prev_join_pathlist_hook = NULL;

static Plan *cr_batch_plan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
						   List *tlist, List *clauses, List *custom_plans);

static const CustomPathMethods cr_batch_path_methods = {
	.CustomName = CR_BATCH_JOIN_NAME,
	.PlanCustomPath = cr_batch_plan,
};

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/*
 * max_concurrency of the inner table's server: the batch is fetched in
 * rounds of that many requests.
 */
static int
server_concurrency(Oid serverid)
{
	ListCell   *lc;

	foreach(lc, GetForeignServer(serverid)->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "max_concurrency") == 0)
			return Max(1, atoi(defGetString(def)));
	}
	return CR_DEFAULT_CONCURRENCY;
}

/*
 * The outer side of "inner.key = <expression of the outer rel only>" with
 * text equality under a deterministic collation, or NULL.  Such a clause
 * is what lets the inner scan fetch only the outer keys.
 */
static Expr *
outer_key_expr(PlannerInfo *root, RestrictInfo *rinfo, RelOptInfo *outerrel,
			   RelOptInfo *innerrel, AttrNumber keyattno)
{
	OpExpr	   *op = (OpExpr *) rinfo->clause;
	int			i;

	if (!IsA(op, OpExpr) || op->opno != TextEqualOperator ||
		list_length(op->args) != 2 ||
		(OidIsValid(op->inputcollid) && !get_collation_isdeterministic(op->inputcollid)))
		return NULL;
	for (i = 0; i < 2; i++)
	{
		Var		   *v = (Var *) strip_implicit_coercions(list_nth(op->args, i));
		Node	   *other = list_nth(op->args, 1 - i);
		Relids		varnos = pull_varnos(root, other);

		if (IsA(v, Var) && (Index) v->varno == innerrel->relid && v->varattno == keyattno &&
			v->varlevelsup == 0 &&
			!bms_is_empty(varnos) && bms_is_subset(varnos, outerrel->relids) &&
			!contain_volatile_functions(other) && !contain_subplans(other))
			return (Expr *) other;
	}
	return NULL;
}

/*
 * The cost of a batched join path: the outer path, the requests of the
 * distinct outer keys in rounds of the inner scan's concurrency (a round
 * costs what one id costs the parameterized path), and the CPU of keeping
 * both sides and checking the clauses.  Returns the inner rows expected.
 */
static double
cost_batch_path(PlannerInfo *root, CustomPath *cpath, Path *outer_path,
				Expr *outer_key, double rows_per_key, Cost cost_per_key,
				int concurrency, List *restrictlist)
{
	double		outer_rows = Max(outer_path->rows, 1.0);
	double		batches = ceil(outer_rows / CR_BATCH_ROWS);
	EstimationInfo est;
	double		keys = estimate_num_groups(root, list_make1(outer_key), outer_rows, NULL, &est);
	double		rounds;
	double		inner_rows;
	QualCost	quals;
	Cost		fetch;
	Cost		cpu;

	/* as Memoize does: without statistics, take every outer key as distinct */
	if (est.flags & SELFLAG_USED_DEFAULT)
		keys = outer_rows;
	rounds = batches * ceil(Max(keys / batches, 1.0) / concurrency);
	inner_rows = keys * rows_per_key;
	fetch = rounds * cost_per_key;
	cost_qual_eval(&quals, extract_actual_clauses(restrictlist, false), root);
	/* store and hash both sides, then check the clauses per candidate pair */
	cpu = (outer_rows + inner_rows) * cpu_tuple_cost +
		outer_rows * Max(rows_per_key, 1.0) * (cpu_tuple_cost + quals.per_tuple) +
		cpu_tuple_cost * cpath->path.rows;

	cpath->path.startup_cost = outer_path->startup_cost +
		(outer_path->total_cost - outer_path->startup_cost) / batches + fetch / batches;
	cpath->path.total_cost = outer_path->total_cost + fetch + cpu + quals.startup;
	return inner_rows;
}

/*
 * The inner side: a plain ForeignPath of the foreign rel, marked so that
 * its plan takes the batch Param.  Built by hand because
 * create_foreignscan_path's arguments differ between major versions.
 */
static Path *
batched_inner_path(RelOptInfo *innerrel, double rows, Cost startup, Cost total)
{
	ForeignPath *p = makeNode(ForeignPath);

	p->path.pathtype = T_ForeignScan;
	p->path.parent = innerrel;
	p->path.pathtarget = innerrel->reltarget;
	p->path.rows = clamp_row_est(rows);
	p->path.startup_cost = startup;
	p->path.total_cost = total;
	p->fdw_private = list_make1(makeString(CR_BATCHED_INNER_MARK));
	return (Path *) p;
}

/* Whether any clause must be evaluated once per query (no Vars). */
static bool
has_pseudoconstant(List *restrictlist)
{
	ListCell   *lc;

	foreach(lc, restrictlist)
		if (((RestrictInfo *) lfirst(lc))->pseudoconstant)
			return true;
	return false;
}

/*
 * set_join_pathlist_hook: add a batched join path where the inner rel is
 * a table of this wrapper fetched per call record and the join names its
 * key.  Placeholders, lateral references and parameterized outer paths
 * are left to the standard joins, which know how to handle them.
 */
static void
cr_batch_join_paths(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
					RelOptInfo *innerrel, JoinType jointype, JoinPathExtraData *extra)
{
	Path	   *outer_path = outerrel->cheapest_total_path;
	AttrNumber	keyattno;
	double		rows_per_key;
	Cost		cost_per_key;
	bool		serial;
	Expr	   *outer_key = NULL;
	ListCell   *lc;
	CustomPath *cpath;
	double		inner_rows;

	if (prev_join_pathlist_hook)
		prev_join_pathlist_hook(root, joinrel, outerrel, innerrel, jointype, extra);

	if (!cr_batch_joins || !cr_enable_pushdown ||
		(jointype != JOIN_INNER && jointype != JOIN_LEFT) ||
		innerrel->reloptkind != RELOPT_BASEREL ||
		innerrel->fdwroutine == NULL ||
		innerrel->fdwroutine->GetForeignRelSize != cr_get_foreign_rel_size ||
		!bms_is_empty(innerrel->lateral_relids) ||
		!bms_is_empty(joinrel->lateral_relids) ||
		root->placeholder_list != NIL ||
		outer_path == NULL || outer_path->param_info != NULL ||
		has_pseudoconstant(extra->restrictlist) ||
		!cr_batch_key(root, innerrel, &keyattno, &rows_per_key, &cost_per_key, &serial))
		return;

	foreach(lc, extra->restrictlist)
	{
		outer_key = outer_key_expr(root, lfirst(lc), outerrel, innerrel, keyattno);
		if (outer_key)
			break;
	}
	if (outer_key == NULL)
		return;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = joinrel;
	cpath->path.pathtarget = joinrel->reltarget;
	cpath->path.rows = joinrel->rows;
	/* rows come out in the outer order */
	cpath->path.pathkeys = build_join_pathkeys(root, joinrel, jointype, outer_path->pathkeys);
#ifdef CUSTOMPATH_SUPPORT_PROJECTION
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
#endif
	inner_rows = cost_batch_path(root, cpath, outer_path, outer_key, rows_per_key,
								 cost_per_key,
								 serial ? 1 : server_concurrency(innerrel->serverid),
								 extra->restrictlist);
	cpath->custom_paths = list_make2(outer_path,
									 batched_inner_path(innerrel, inner_rows, cost_per_key,
														cpath->path.total_cost - outer_path->total_cost));
	cpath->custom_private = list_make3(extra->restrictlist, makeInteger(jointype), outer_key);
	cpath->methods = &cr_batch_path_methods;
	add_path(joinrel, (Path *) cpath);
}

/* The position of a Var in a child's target list (1-based), or 0. */
static int
tlist_position(List *tlist, Var *var)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		Var		   *v = (Var *) ((TargetEntry *) lfirst(lc))->expr;

		if (IsA(v, Var) && v->varno == var->varno && v->varattno == var->varattno)
			return ((TargetEntry *) lfirst(lc))->resno;
	}
	return 0;
}

/*
 * The scan tuple: every Var the join's target list and clauses read, and
 * where each comes from.  A Var is looked up in the child's row by
 * relation and column only: from PostgreSQL 16 on, a Var of the nullable
 * side above a LEFT join is marked as nulled by it, and the marked and
 * unmarked copies (target list and join clause) are two scan columns
 * read from the same inner column.
 */
static List *
scan_tlist(List *exprs, Plan *outer_plan, Plan *inner_plan, Relids outer_relids,
		   List **sources)
{
	List	   *tlist = add_to_flat_tlist(NIL, pull_var_clause((Node *) exprs, 0));
	ListCell   *lc;

	*sources = NIL;
	foreach(lc, tlist)
	{
		Var		   *v = (Var *) ((TargetEntry *) lfirst(lc))->expr;
		bool		from_outer = bms_is_member(v->varno, outer_relids);
		int			pos = tlist_position(from_outer ? outer_plan->targetlist :
										 inner_plan->targetlist, v);

		if (pos == 0)
			elog(ERROR, "batched join: column %d of relation %d not found in its input",
				 v->varattno, v->varno);
		*sources = lappend_int(*sources, from_outer ? pos : -pos);
	}
	return tlist;
}

/*
 * Give each Var of the join clauses the nulling marks of the Var of the same
 * column that the target list or the other clauses read.  From PostgreSQL
 * 16 on, setrefs.c finds a scan-tuple column by relation and column only,
 * takes the first, and wants its marks equal to the Var's: above a LEFT join
 * a Var of the nullable side is marked as nulled by it, in the join's own
 * clauses it is not.  The value is the same in every row the join clauses
 * see (compat.h: nothing to do before 16).
 */
static Node *
same_marks_mutator(Node *node, void *context)
{
	ListCell   *lc;

	if (node == NULL)
		return NULL;
	if (!IsA(node, Var))
		return expression_tree_mutator(node, same_marks_mutator, context);
	foreach(lc, (List *) context)
	{
		Var		   *above = lfirst(lc);

		if (IsA(above, Var) && above->varno == ((Var *) node)->varno &&
			above->varattno == ((Var *) node)->varattno &&
			above->varlevelsup == ((Var *) node)->varlevelsup)
		{
			Var		   *v = copyObject((Var *) node);

			cr_copy_nulling_marks(v, above);
			return (Node *) v;
		}
	}
	return node;
}

/*
 * PlanCustomPath: a CustomScan over the two child plans.  custom_exprs
 * holds the outer key, then the join clauses that decide a match (all of
 * them for an inner join); a LEFT join's other clauses, which also filter
 * its null-extended rows, are the scan's qual, checked by ExecScan.
 */
static Plan *
cr_batch_plan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			  List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *restrictlist = linitial(best_path->custom_private);
	JoinType	jointype = intVal(lsecond(best_path->custom_private));
	Expr	   *outer_key = lthird(best_path->custom_private);
	Plan	   *outer_plan = linitial(custom_plans);
	Plan	   *inner_plan = lsecond(custom_plans);
	RelOptInfo *innerrel = ((Path *) lsecond(best_path->custom_paths))->parent;
	Var		   *key_var;
	List	   *joinquals,
			   *otherquals,
			   *sources;
	AttrNumber	keyattno;
	double		rows_per_key;
	Cost		cost_per_key;
	bool		serial;

	if (jointype == JOIN_INNER)
	{
		joinquals = extract_actual_clauses(restrictlist, false);
		otherquals = NIL;
	}
	else
		extract_actual_join_clauses(restrictlist, rel->relids, &joinquals, &otherquals);

	if (!cr_batch_key(root, innerrel, &keyattno, &rows_per_key, &cost_per_key, &serial))
		elog(ERROR, "batched join: the inner relation takes no batch of keys");
	key_var = makeVar(innerrel->relid, keyattno, TEXTOID, -1, DEFAULT_COLLATION_OID, 0);

	/*
	 * A parent that projects anyway passes no target list (CP_IGNORE_TLIST)
	 * and may later give the scan a target list of its own choosing from
	 * the join rel's columns: the scan tuple holds all of them.
	 */
	if (tlist == NIL)
		tlist = add_to_flat_tlist(NIL, rel->reltarget->exprs);
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = otherquals;
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_plans = custom_plans;
	cscan->custom_exprs = (List *)
		same_marks_mutator((Node *) lcons(outer_key, joinquals),
						   pull_var_clause((Node *) list_make3(tlist, rel->reltarget->exprs,
															   otherquals), 0));
	cscan->custom_scan_tlist = scan_tlist(list_make4(tlist, rel->reltarget->exprs,
													 otherquals, cscan->custom_exprs),
										  outer_plan, inner_plan,
										  ((Path *) linitial(best_path->custom_paths))->parent->relids,
										  &sources);
	cscan->custom_private = list_make3(makeInteger(jointype),
									   makeInteger(tlist_position(inner_plan->targetlist, key_var)),
									   sources);
	if (intVal(lsecond(cscan->custom_private)) == 0)
		elog(ERROR, "batched join: the inner key is not among the inner scan's columns");
	cscan->custom_relids = rel->relids;
	cscan->methods = &cr_batch_scan_methods;
	return &cscan->scan.plan;
}
/* From _PG_init: the planner hook and the plan node's methods. */
void
cr_batch_join_init(void)
{
	RegisterCustomScanMethods(&cr_batch_scan_methods);
	prev_join_pathlist_hook = set_join_pathlist_hook;
	set_join_pathlist_hook = cr_batch_join_paths;
}

