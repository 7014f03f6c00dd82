/*-------------------------------------------------------------------------
 *
 * scanplan.c
 *		  ForeignScan.fdw_private: what the scan needs to know of its plan,
 *		  written by the planner (plan.c), read by the scan (scan.c).
 *
 * The scan says what its plan holds (CrScanPlan, cr_scan.h) and the
 * planner, above it, fills it in, so the one writer and the one reader of
 * the list sit side by side, below both.  Rules kept here: the list holds
 * nodes only, so that a plan can be copied and cached, in
 * CrScanPrivateIndex order, and nothing secret ever goes into it.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/scanplan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_scan.h"

#include "nodes/value.h"

/*
 * The plan's facts of a scan as ForeignScan.fdw_private: a list of nodes,
 * so that the plan can be copied and cached, in CrScanPrivateIndex order.
 * This writer and the reader below are the only places that know the
 * order.
 */
List *
cr_scan_plan_write(const CrScanPlan *plan)
{
	List	   *l = NIL;

	l = lappend(l, plan->retrieved_attrs);
	l = lappend(l, plan->roles);
	l = lappend(l, makeInteger(plan->page_size_hint));
	l = lappend(l, makeInteger(plan->expand_segments ? 1 : 0));
	l = lappend(l, makeInteger(plan->share_responses ? 1 : 0));
	l = lappend(l, makeInteger(plan->limited ? 1 : 0));
	l = lappend(l, makeInteger(plan->outer_value));
	l = lappend(l, makeInteger(plan->time_unpushed ? 1 : 0));
	l = lappend(l, makeFloat(psprintf("%.3f", plan->requests)));
	l = lappend(l, makeInteger(plan->per_outer_row ? 1 : 0));
	if (plan->join_tables != NIL)
	{
		l = lappend(l, plan->join_tables);
		l = lappend(l, plan->join_bounds);
		l = lappend(l, makeString(plan->relations));
	}
	return l;
}

/* Read what cr_scan_plan_write wrote. */
void
cr_scan_plan_read(List *fdw_private, CrScanPlan *plan)
{
	plan->retrieved_attrs = list_nth(fdw_private, CrScanPrivateRetrievedAttrs);
	plan->roles = list_nth(fdw_private, CrScanPrivateRoles);
	plan->page_size_hint = intVal(list_nth(fdw_private, CrScanPrivatePageSizeHint));
	plan->expand_segments = intVal(list_nth(fdw_private, CrScanPrivateExpandSegments)) != 0;
	plan->share_responses = intVal(list_nth(fdw_private, CrScanPrivateShareResponses)) != 0;
	plan->limited = intVal(list_nth(fdw_private, CrScanPrivateLimited)) != 0;
	plan->outer_value = intVal(list_nth(fdw_private, CrScanPrivateOuterValue));
	plan->time_unpushed = intVal(list_nth(fdw_private, CrScanPrivateTimeUnpushed)) != 0;
	plan->requests = floatVal(list_nth(fdw_private, CrScanPrivateRequests));
	plan->per_outer_row = intVal(list_nth(fdw_private, CrScanPrivatePerOuterRow)) != 0;
	plan->join_tables = NIL;
	plan->join_bounds = NIL;
	plan->relations = NULL;
	if (list_length(fdw_private) > CrScanPrivateRelations)
	{
		plan->join_tables = list_nth(fdw_private, CrScanPrivateJoinTables);
		plan->join_bounds = list_nth(fdw_private, CrScanPrivateJoinBounds);
		plan->relations = strVal(list_nth(fdw_private, CrScanPrivateRelations));
	}
}
