/*-------------------------------------------------------------------------
 *
 * jitcost.c
 *		  PostgreSQL's JIT decision without the cost of Graph's requests.
 *
 * The planner prices a Graph request at CR_REQUEST_COST (plan.c), about
 * 100 ms of remote work, so that plans avoid requests.  PostgreSQL then
 * compares the plan's total cost with jit_above_cost and its siblings to
 * decide whether to compile the plan's expressions: a scan of ten call
 * records passes jit_above_cost, and one of fifty requests the inlining and
 * optimizing thresholds, so a count(*) over a few thousand rows spent
 * about 50 ms compiling (inlining alone 35 ms), more than it then
 * spent on its rows.  Waiting on Graph is not work that compiled code
 * speeds up.  So when the executor starts a plan that holds scans of this
 * wrapper, the decision is made again on the plan's cost without theirs:
 * what the nodes above them cost for the rows they pass on.  At executor
 * start, not after planning: the statement that loads the library (its
 * first foreign scan, planned before the library's hooks existed) is
 * decided again too, and so are plans from the plan cache.
 *
 * Rules kept here: plans without the wrapper's scans are left as they
 * are; JIT is only ever turned down, never on, and with the thresholds
 * and settings (jit, jit_expressions, jit_tuple_deforming) the user set.
 * A scan that a nested loop or a correlated subquery runs many times
 * has its cost subtracted as many times as the plan counted it.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/jitcost.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_plan.h"

#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "jit/jit.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"

static ExecutorStart_hook_type prev_executor_start = NULL;

/* A walk adding up the cost of the wrapper's scans, with their loops. */
typedef struct CrScanCostWalk
{
	PlannedStmt *stmt;
	Cost		cost;
	bool		found;
	double		calls;			/* of the node whose expressions are walked */
} CrScanCostWalk;

static void add_scans_cost(Plan *plan, double loops, CrScanCostWalk *w);

static bool
is_wrapper_scan(Plan *plan)
{
	ForeignScan *fs = (ForeignScan *) plan;

	return IsA(plan, ForeignScan) && OidIsValid(fs->fs_server) &&
		GetFdwRoutineByServerId(fs->fs_server)->GetForeignRelSize == cr_get_foreign_rel_size;
}

/*
 * A correlated subquery runs once per row of the node that holds it, and
 * its cost is in that node's that many times; decide_jit() counted it
 * once, so add the other calls.
 */
static bool
add_subplan_calls(Node *node, CrScanCostWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubPlan) && !((SubPlan *) node)->useHashTable && w->calls > 1)
	{
		double		calls = w->calls;

		add_scans_cost(list_nth(w->stmt->subplans, ((SubPlan *) node)->plan_id - 1),
					   calls - 1, w);
		w->calls = calls;
	}
	return expression_tree_walker(node, add_subplan_calls, (void *) w);
}

/*
 * Add the cost of the wrapper's scans in a plan tree, each as often as
 * the plan runs it: loops times, and the inner side of a nested loop once
 * per outer row.  A Memoize there makes the loop cheaper than that, so
 * the sum errs high, which only ever turns JIT down.
 */
static void
add_scans_cost(Plan *plan, double loops, CrScanCostWalk *w)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	if (is_wrapper_scan(plan))
	{
		w->found = true;
		w->cost += loops * plan->total_cost;
		return;
	}
	w->calls = loops * Max(1.0, plan->plan_rows);
	add_subplan_calls((Node *) plan->targetlist, w);
	add_subplan_calls((Node *) plan->qual, w);
	add_scans_cost(plan->lefttree, loops, w);
	if (IsA(plan, NestLoop) && plan->lefttree)
		add_scans_cost(plan->righttree, loops * Max(1.0, plan->lefttree->plan_rows), w);
	else
		add_scans_cost(plan->righttree, loops, w);
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			add_scans_cost(lfirst(lc), loops, w);
	else if (IsA(plan, MergeAppend))
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
			add_scans_cost(lfirst(lc), loops, w);
	else if (IsA(plan, SubqueryScan))
		add_scans_cost(((SubqueryScan *) plan)->subplan, loops, w);
	else if (IsA(plan, CustomScan))
		foreach(lc, ((CustomScan *) plan)->custom_plans)
			add_scans_cost(lfirst(lc), loops, w);
}

/*
 * Make PostgreSQL's JIT decision again for a plan with the wrapper's
 * scans, on its cost without theirs (standard_planner's rule, thresholds
 * and settings), and only where that turns JIT down.
 */
static void
decide_jit(PlannedStmt *stmt)
{
	CrScanCostWalk w = {stmt, 0, false, 1};
	Cost		cost;
	int			flags = PGJIT_NONE;
	ListCell   *lc;

	if (stmt->jitFlags == PGJIT_NONE || stmt->planTree == NULL)
		return;
	/* every subquery once (CTEs, init plans), then the tree's loops */
	foreach(lc, stmt->subplans)
		add_scans_cost(lfirst(lc), 1, &w);
	add_scans_cost(stmt->planTree, 1, &w);
	if (!w.found)
		return;
	cost = Max(0, stmt->planTree->total_cost - w.cost);
	if (jit_enabled && jit_above_cost >= 0 && cost > jit_above_cost)
	{
		flags |= PGJIT_PERFORM;
		if (jit_optimize_above_cost >= 0 && cost > jit_optimize_above_cost)
			flags |= PGJIT_OPT3;
		if (jit_inline_above_cost >= 0 && cost > jit_inline_above_cost)
			flags |= PGJIT_INLINE;
		if (jit_expressions)
			flags |= PGJIT_EXPR;
		if (jit_tuple_deforming)
			flags |= PGJIT_DEFORM;
	}
	stmt->jitFlags &= flags;
}

/*
 * The JIT decision without Graph's requests, before the executor reads it
 * (standard_ExecutorStart copies the plan's flags into the executor state;
 * EXPLAIN without ANALYZE comes through here too).  Deciding again only
 * turns flags off, so a cached plan decided twice stays the same.
 */
static void
cr_jit_executor_start(QueryDesc *queryDesc, int eflags)
{
	decide_jit(queryDesc->plannedstmt);
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* Install the executor hook, once per backend. */
void
cr_jitcost_init(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = cr_jit_executor_start;
}
