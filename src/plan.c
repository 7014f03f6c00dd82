/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  Planning a scan: which conditions become part of the Graph
 *		  request, how many rows and requests to expect, which columns the
 *		  query needs.
 *
 * The rule this file keeps: a condition is used to choose what to fetch,
 * but every condition stays in the plan's qual and is rechecked locally,
 * so pushing a condition down can narrow the request but never change the
 * answer.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "callrecords_fdw.h"

#include "access/sysattr.h"
#include "catalog/pg_operator.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"

/*
 * Rough shape of a call record, for row estimates: sessions per record,
 * and children per parent below that.
 */
#define CR_EST_SESSIONS_PER_RECORD	8.0
#define CR_EST_CHILDREN_PER_PARENT	1.5
/* A call record list scan (not yet supported) would cover this many. */
#define CR_EST_RECORDS_IN_TENANT	10000.0
/* Cost of one Graph request in planner units: ~100 ms of remote work. */
#define CR_REQUEST_COST				10000.0

/* Planner state kept in baserel->fdw_private. */
typedef struct CrRelInfo
{
	const CrResource *res;
	List	   *id_exprs;		/* Exprs giving the call record ids to fetch */
	List	   *retrieved_attrs;	/* attnums the query reads */
	double		fetched_rows;	/* rows Graph returns before local quals */
	double		requests;		/* estimated Graph requests */
} CrRelInfo;

static Node *
strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

static bool
is_column_var(Node *n, RelOptInfo *baserel, AttrNumber attno)
{
	Var		   *v = (Var *) strip_relabel(n);

	return v && IsA(v, Var) && (Index) v->varno == baserel->relid &&
		v->varattno == attno && v->varlevelsup == 0;
}

/*
 * A value the executor can compute before the scan starts: a non-null
 * constant, or a parameter of a prepared statement.
 */
static bool
is_scan_time_value(Node *n)
{
	n = strip_relabel(n);
	if (n == NULL)
		return false;
	if (IsA(n, Const))
		return !((Const *) n)->constisnull;
	if (IsA(n, Param))
		return ((Param *) n)->paramkind == PARAM_EXTERN;
	return false;
}

/*
 * If the clause is "call_record_id = value", return the value expression.
 * Only the text equality operator qualifies: another operator on the
 * column (a case-insensitive one, say) would not mean what Graph's lookup
 * by id means.
 */
static Expr *
call_record_id_value(Expr *clause, RelOptInfo *baserel, AttrNumber idattno)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *left,
			   *right;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
		op->opno != TextEqualOperator)
		return NULL;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (is_column_var(left, baserel, idattno) && is_scan_time_value(right))
		return (Expr *) strip_relabel(right);
	if (is_column_var(right, baserel, idattno) && is_scan_time_value(left))
		return (Expr *) strip_relabel(left);
	return NULL;
}

/*
 * The attnums the query reads: from the target list and from the quals
 * that are checked locally (which here is all of them).  A whole-row
 * reference means every column.
 */
static List *
needed_attrs(RelOptInfo *baserel)
{
	Bitmapset  *attrs = NULL;
	List	   *result = NIL;
	ListCell   *lc;
	int			i;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, baserel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   baserel->relid, &attrs);

	for (i = 1; i <= baserel->max_attr; i++)
	{
		if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs) ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			result = lappend_int(result, i);
	}
	return result;
}

/* Rows one call record yields at the level of the resource. */
static double
rows_per_record(const CrResource *res)
{
	double		rows = CR_EST_SESSIONS_PER_RECORD;
	CrLevel		level;

	for (level = CR_LEVEL_SEGMENT; level <= res->level; level++)
		rows *= CR_EST_CHILDREN_PER_PARENT;
	return rows;
}

/*
 * Find the call record ids in the quals and estimate the result size.
 * Conditions other than the id are applied locally; their selectivity
 * scales the estimate.
 */
void
cr_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
						Oid foreigntableid)
{
	CrRelInfo  *info = palloc0(sizeof(CrRelInfo));
	ForeignTable *table = GetForeignTable(foreigntableid);
	CrOptions	topts = {0};
	AttrNumber	idattno = get_attnum(foreigntableid, "call_record_id");
	List	   *local_conds = NIL;
	ListCell   *lc;

	foreach(lc, table->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "resource") == 0)
			topts.resource = defGetString(def);
	}
	info->res = cr_table_resource(&topts);

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);
		Expr	   *value = NULL;

		if (info->id_exprs == NIL && idattno != InvalidAttrNumber)
			value = call_record_id_value(ri->clause, baserel, idattno);
		if (value)
			info->id_exprs = lappend(info->id_exprs, value);
		else
			local_conds = lappend(local_conds, ri);
	}
	info->retrieved_attrs = needed_attrs(baserel);

	if (info->id_exprs != NIL)
	{
		info->fetched_rows = rows_per_record(info->res);
		/* the first GET, plus a sessions page per 60 sessions beyond it */
		info->requests = 1.0 + CR_EST_SESSIONS_PER_RECORD / 60.0;
	}
	else
	{
		info->fetched_rows = rows_per_record(info->res) * CR_EST_RECORDS_IN_TENANT;
		info->requests = CR_EST_RECORDS_IN_TENANT;
	}
	baserel->rows = clamp_row_est(info->fetched_rows *
								  clauselist_selectivity(root, local_conds,
														 baserel->relid,
														 JOIN_INNER, NULL));
	baserel->fdw_private = info;
}

/*
 * One path: the request chain per call record id.  Its cost is dominated
 * by the Graph round trips, so a plan that fetches fewer records wins.
 */
void
cr_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	CrRelInfo  *info = baserel->fdw_private;
	Cost		startup = CR_REQUEST_COST;
	Cost		total = info->requests * CR_REQUEST_COST +
		info->fetched_rows * (cpu_tuple_cost + cpu_operator_cost *
							  list_length(baserel->baserestrictinfo));

	add_path(baserel, (Path *) create_foreignscan_path(root, baserel, NULL,
													   baserel->rows,
													   startup, total,
													   NIL, NULL, NULL, NIL));
}

ForeignScan *
cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	CrRelInfo  *info = baserel->fdw_private;
	List	   *fdw_private;

	/* every condition is rechecked locally */
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	fdw_private = list_make2(makeString(pstrdup(info->res->name)),
							 info->retrieved_attrs);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							info->id_exprs, fdw_private,
							NIL, NIL, outer_plan);
}
