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
 * speeds up.  So after the standard planner, in a plan that holds scans of
 * this wrapper, the decision is made again on the plan's cost without
 * theirs: what the nodes above them cost for the rows they pass on.
 *
 * Rules kept here: plans without the wrapper's scans are left as they
 * are; JIT is only ever turned down, never on, and with the thresholds
 * and settings (jit, jit_expressions, jit_tuple_deforming) the user set.
 * A scan inside a nested loop has its cost subtracted once though the
 * loop runs it many times, so such a plan may still be compiled.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/jitcost.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "callrecords_fdw.h"

#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "jit/jit.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"

static planner_hook_type prev_planner_hook = NULL;

/*
 * The cost of the wrapper's scans in a plan tree (each counted once), and
 * whether there is any.
 */
static Cost
scans_cost(Plan *plan, bool *found)
{
	Cost		cost = 0;
	ListCell   *lc;

	if (plan == NULL)
		return 0;
	if (IsA(plan, ForeignScan))
	{
		ForeignScan *fs = (ForeignScan *) plan;

		if (OidIsValid(fs->fs_server) &&
			GetFdwRoutineByServerId(fs->fs_server)->GetForeignPlan == cr_get_foreign_plan)
		{
			*found = true;
			return plan->total_cost;
		}
	}
	cost += scans_cost(plan->lefttree, found) + scans_cost(plan->righttree, found);
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			cost += scans_cost(lfirst(lc), found);
	else if (IsA(plan, MergeAppend))
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
			cost += scans_cost(lfirst(lc), found);
	else if (IsA(plan, SubqueryScan))
		cost += scans_cost(((SubqueryScan *) plan)->subplan, found);
	else if (IsA(plan, CustomScan))
		foreach(lc, ((CustomScan *) plan)->custom_plans)
			cost += scans_cost(lfirst(lc), found);
	return cost;
}

/*
 * Make PostgreSQL's JIT decision again for a plan with the wrapper's
 * scans, on its cost without theirs (standard_planner's rule, thresholds
 * and settings), and only where that turns JIT down.
 */
static void
decide_jit(PlannedStmt *stmt)
{
	bool		found = false;
	Cost		cost;
	int			flags = PGJIT_NONE;
	ListCell   *lc;

	if (stmt->jitFlags == PGJIT_NONE || stmt->planTree == NULL)
		return;
	cost = scans_cost(stmt->planTree, &found);
	foreach(lc, stmt->subplans)
		cost += scans_cost(lfirst(lc), &found);
	if (!found)
		return;
	cost = Max(0, stmt->planTree->total_cost - cost);
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

/* The planner, then the JIT decision without Graph's requests. */
static PlannedStmt *
cr_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	PlannedStmt *stmt;

	if (prev_planner_hook)
		stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions, boundParams);
	decide_jit(stmt);
	return stmt;
}

/* Install the planner hook, once per backend. */
void
cr_jitcost_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = cr_planner;
}
