/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  Planning a scan: the planner callbacks (sizes, paths, the plan),
 *		  the parameterized paths of joins on the call record key, and what
 *		  the plan tells the scan (fdw_private, through scanplan.c).
 *
 * Which conditions are pushed is pushdown.c's business, how many rows and
 * requests to expect estimate.c's; both sit below this file, and the
 * planner's files above it (keystats.c, batchjoin.c, jitcost.c) know a
 * table of this wrapper by its callbacks here.  The rule this file keeps: every
 * condition stays in the plan's qual and is rechecked locally, the join
 * clause of a parameterized path too, so a pushed condition narrows the
 * requests but never changes the answer; and nothing secret (no option of
 * a user mapping) goes into the plan.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cr_common.h"
#include "cr_scan.h"

#include "access/nbtree.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "plan_int.h"


/*
 * The attnums the query reads: from the target list and from the quals,
 * which are all checked locally.  A whole-row reference means every
 * column.
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

/* The resource of a foreign table, from its options. */
static const CrResource *
table_resource(ForeignTable *table)
{
	CrOptions	topts = {0};
	ListCell   *lc;

	foreach(lc, table->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "resource") == 0)
			topts.resource = defGetString(def);
	}
	return cr_table_resource(&topts);
}

/* The resource of a foreign table, by its OID. */
const CrResource *
cr_relation_resource(Oid relid)
{
	return table_resource(GetForeignTable(relid));
}

/* What the walk over a statement's range tables found. */
typedef struct CrStatementScans
{
	Oid			serverid;
	int			tables;			/* foreign tables of the server */
	bool		segments;		/* one of them reads segments or below */
} CrStatementScans;

static bool
statement_scans_walker(Node *node, CrStatementScans *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_FOREIGN_TABLE)
		{
			ForeignTable *table = GetForeignTable(rte->relid);

			if (table->serverid == found->serverid)
			{
				const CrResource *res = table_resource(table);

				found->tables++;
				if (res->level == CR_LEVEL_SEGMENT || res->level == CR_LEVEL_MEDIA ||
					res->level == CR_LEVEL_STREAM)
					found->segments = true;
			}
		}
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, statement_scans_walker, found,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, statement_scans_walker, found);
}

/*
 * The foreign tables of this server in the whole statement, subqueries
 * and CTEs included.  If one of them reads segments or below, a sessions
 * scan asks for the sessions with their segments too, so that the scans
 * share one response; alone it asks for the sessions only, which is far
 * fewer bytes.  Responses are kept for sharing only when there is more
 * than one such table, so a lone scan's memory does not grow with the
 * pages it reads.
 */
static void
statement_scans(PlannerInfo *root, Oid serverid, bool *segments, bool *share)
{
	CrStatementScans found = {serverid, 0, false};

	while (root->parent_root)
		root = root->parent_root;
	statement_scans_walker((Node *) root->parse, &found);
	*segments = found.segments;
	*share = found.tables > 1;
}

/*
 * Whether a pushed join of the given number of tables shares responses
 * with other scans of the statement: only when tables of the server are
 * left outside it.
 */
bool
cr_statement_shares(PlannerInfo *root, Oid serverid, int joined)
{
	CrStatementScans found = {serverid, 0, false};

	while (root->parent_root)
		root = root->parent_root;
	statement_scans_walker((Node *) root->parse, &found);
	return found.tables - joined + 1 > 1;
}

/*
 * Whether a column the scan reads has a "path" into a session's segments.
 * Sessions are fetched without their segments unless the statement also
 * reads segments, media or streams; such a column would then be NULL or
 * filled depending on the rest of the query, so it always gets them.
 */
static bool
reads_segments(Oid relid, List *attrs)
{
	ListCell   *lc;

	foreach(lc, attrs)
	{
		ListCell   *oc;

		foreach(oc, GetForeignColumnOptions(relid, (AttrNumber) lfirst_int(lc)))
		{
			DefElem    *def = lfirst(oc);
			const char *path = defGetString(def);

			if (strcmp(def->defname, "path") == 0 && strncmp(path, "segments", 8) == 0 &&
				(path[8] == '\0' || path[8] == '.'))
				return true;
		}
	}
	return false;
}

/*
 * A LIMIT becomes a page-size hint (never a cap) when the scan is the only
 * relation of the query, every condition was pushed down and nothing has
 * to see all rows first (ORDER BY, aggregates: the planner then leaves
 * limit_tuples unset).  Only list requests take the hint.
 */
static int
page_size_hint(PlannerInfo *root, CrRelInfo *info, List *local_conds)
{
	double		page = cr_page_size(info->res);

	if (root->limit_tuples <= 0 || root->limit_tuples >= page ||
		local_conds != NIL || root->parse->sortClause != NIL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		list_member_int(info->roles, CR_QUAL_KEY) ||
		list_member_int(info->roles, CR_QUAL_KEY_ARRAY) ||
		info->res->fetch == CR_FETCH_RECORD_CHILDREN)
		return 0;
	return (int) ceil(root->limit_tuples);
}

/*
 * Find the conditions that narrow the requests and estimate the result.
 * Conditions are also applied locally; the selectivity of all of them
 * scales the estimate of what is fetched.
 */
void
cr_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
						Oid foreigntableid)
{
	CrRelInfo  *info = palloc0(sizeof(CrRelInfo));
	ForeignTable *table = GetForeignTable(foreigntableid);
	List	   *local_conds = NIL;
	ListCell   *lc;

	info->res = table_resource(table);
	cr_shape_hint(foreigntableid, &info->shape);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (!cr_push_qual(info, ri->clause, baserel, foreigntableid))
		{
			local_conds = lappend(local_conds, ri);
			if (cr_enable_pushdown &&
				cr_reads_time_column(ri->clause, baserel, foreigntableid, info->res))
				info->time_unpushed = true;
		}
	}
	info->retrieved_attrs = needed_attrs(baserel);
	cr_estimate_fetch(root, info, baserel);
	info->page_size_hint = cr_enable_pushdown ? page_size_hint(root, info, local_conds) : 0;
	statement_scans(root, table->serverid, &info->expand_segments, &info->share_responses);
	if (info->res->level != CR_LEVEL_SESSION ||
		reads_segments(foreigntableid, info->retrieved_attrs))
		info->expand_segments = true;

	baserel->rows = clamp_row_est(info->fetched_rows *
								  clauselist_selectivity(root, local_conds,
														 baserel->relid,
														 JOIN_INNER, NULL));
	baserel->fdw_private = info;
}

/* Planner cost of a path that makes the given requests and yields rows. */
static void
path_cost(RelOptInfo *baserel, double requests, double rows,
		  Cost *startup, Cost *total)
{
	*startup = CR_REQUEST_COST;
	*total = requests * CR_REQUEST_COST +
		rows * (cpu_tuple_cost + cpu_operator_cost *
				list_length(baserel->baserestrictinfo));
}

/* An equivalence class member that is the key column of this table. */
static bool
key_ec_member_matches(PlannerInfo *root, RelOptInfo *rel,
					  EquivalenceClass *ec, EquivalenceMember *em, void *arg)
{
	return cr_is_column_var((Node *) em->em_expr, rel, *(AttrNumber *) arg);
}

/*
 * The other side of "key = <expression of other relations>", or NULL if
 * the clause is not that.
 */
static Expr *
outer_key_value(PlannerInfo *root, RestrictInfo *rinfo, RelOptInfo *baserel,
				AttrNumber keyattno)
{
	OpExpr	   *op = (OpExpr *) rinfo->clause;
	Node	   *other;
	bool		swapped;

	if (!IsA(op, OpExpr) || op->opno != TextEqualOperator)
		return NULL;
	other = cr_other_side(op, baserel, keyattno, &swapped);
	if (other == NULL ||
		bms_is_member(baserel->relid, pull_varnos(root, other)) ||
		contain_volatile_functions(other) || contain_subplans(other))
		return NULL;
	return (Expr *) other;
}

/*
 * Parameterized paths: for "key = outer.column" (from an equivalence class
 * or a join clause), a nested loop fetches only the call records the outer
 * rows name, one per outer row, instead of listing everything.
 */
static void
add_key_param_paths(PlannerInfo *root, RelOptInfo *baserel, CrRelInfo *info,
					AttrNumber keyattno)
{
	List	   *clauses;
	ListCell   *lc;

	clauses = generate_implied_equalities_for_column(root, baserel,
													 key_ec_member_matches,
													 &keyattno,
													 baserel->lateral_referencers);
	clauses = list_concat(clauses, list_copy(baserel->joininfo));

	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst(lc);
		Expr	   *outer = outer_key_value(root, rinfo, baserel, keyattno);
		Relids		required_outer;
		ParamPathInfo *ppi;
		double		rows = cr_rows_per_record(info->res, &info->shape);
		Cost		startup,
					total;

		/*
		 * As postgres_fdw: only a clause that may be evaluated at this scan
		 * (not one an outer join above must see first; from 16 on its
		 * clause_relids may name outer joins, which no path may require).
		 */
		if (outer == NULL || !join_clause_is_movable_to(rinfo, baserel) ||
			bms_overlap(rinfo->clause_relids, baserel->lateral_referencers))
			continue;
		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		ppi = get_baserel_parampathinfo(root, baserel, required_outer);
		path_cost(baserel, cr_requests_per_record(info->res, &info->shape), rows, &startup, &total);
		add_path(baserel, (Path *)
				 cr_create_foreignscan_path(root, baserel, NULL,
											Min(ppi->ppi_rows, rows),
											startup, total, NIL,
											required_outer, NULL,
											list_make1(outer)));
	}
}

/*
 * The plain path, plus parameterized paths on the call record key when
 * the query has no key condition of its own.  Cost is dominated by the
 * Graph round trips, so a plan that makes fewer requests wins.
 */
void
cr_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	CrRelInfo  *info = baserel->fdw_private;
	Cost		startup,
				total;

	path_cost(baserel, info->requests, info->fetched_rows, &startup, &total);
	add_path(baserel, (Path *) cr_create_foreignscan_path(root, baserel, NULL,
														  baserel->rows,
														  startup, total,
														  NIL, NULL, NULL, NIL));

	if (cr_enable_pushdown && info->res->fetch != CR_FETCH_FUNCTION &&
		!list_member_int(info->roles, CR_QUAL_KEY) &&
		!list_member_int(info->roles, CR_QUAL_KEY_ARRAY))
	{
		const char *key = cr_key_column(info->res);
		AttrNumber	keyattno = get_attnum(foreigntableid, key);

		if (keyattno != InvalidAttrNumber)
			add_key_param_paths(root, baserel, info, keyattno);
	}
}

/*
 * Whether a ForeignPath is the inner side of a batched join: this file then
 * gives its scan a placeholder for the batch's keys instead of an outer
 * row's value.  The mark is a String, which no expression of a
 * parameterized path can be.
 */
static bool
is_batched_inner(ForeignPath *path)
{
	Node	   *first = path->fdw_private ? linitial(path->fdw_private) : NULL;

	return first && IsA(first, String) &&
		strcmp(strVal(first), CR_BATCHED_INNER_MARK) == 0;
}

/*
 * The plan of the chosen path: every condition stays in the plan's qual
 * (rechecked locally), the pushed values go into fdw_exprs (so that
 * setrefs fixes up their Params), and what the scan needs to know of the
 * plan into fdw_private.
 */
ForeignScan *
cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	CrRelInfo  *info = baserel->fdw_private;
	List	   *exprs = list_copy(info->exprs);
	List	   *roles = list_copy(info->roles);
	List	   *fdw_private;
	CrScanPlan	plan;
	int			outer_value = -1;

	/* every condition is rechecked locally, the join clause too */
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	/*
	 * The inner scan of a batched join (batchjoin.c): the join hands it the
	 * outer keys, one array per batch, in place of this NULL placeholder.
	 */
	if (is_batched_inner(best_path))
	{
		outer_value = list_length(exprs);
		exprs = lappend(exprs, makeNullConst(TEXTARRAYOID, -1, InvalidOid));
		roles = lappend_int(roles, CR_QUAL_KEY_ARRAY);
	}
	/* a parameterized path: the outer value becomes a Param at execution */
	else if (best_path->fdw_private != NIL)
	{
		outer_value = list_length(exprs);
		exprs = lappend(exprs, linitial(best_path->fdw_private));
		roles = lappend_int(roles, CR_QUAL_KEY);
	}

	plan.retrieved_attrs = info->retrieved_attrs;
	plan.roles = roles;
	plan.page_size_hint = info->page_size_hint;
	plan.expand_segments = info->expand_segments;
	plan.share_responses = info->share_responses;
	plan.limited = root->limit_tuples > 0;
	plan.outer_value = outer_value;
	plan.time_unpushed = info->time_unpushed;
	plan.join_tables = NIL;
	/* the requests estimated: of the whole scan, or of one outer row's key */
	plan.per_outer_row = outer_value >= 0;
	plan.requests = outer_value < 0 ? info->requests : cr_requests_per_record(info->res, &info->shape);
	fdw_private = cr_scan_plan_write(&plan);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							exprs, fdw_private,
							NIL, NIL, outer_plan);
}

/*
 * For batchjoin.c: what a batched join needs to know of a rel planned
 * here, so that the rules of pushdown and the estimates stay in this file.
 * False when the rel cannot take its call records as a batch of ids: a
 * log function, pushdown off, or a key condition of its own that already
 * names them.  Otherwise the key column, the rows one id yields after the
 * local conditions, the cost of fetching one id (as a parameterized path
 * costs it) and whether its scans fetch one page at a time because they
 * share responses with other scans of the statement.
 */
bool
cr_batch_key(PlannerInfo *root, RelOptInfo *baserel, AttrNumber *keyattno,
			 double *rows_per_key, Cost *cost_per_key, bool *serial)
{
	CrRelInfo  *info = baserel->fdw_private;
	double		rows;
	Cost		startup;

	if (!cr_enable_pushdown || info == NULL || info->res->fetch == CR_FETCH_FUNCTION ||
		list_member_int(info->roles, CR_QUAL_KEY) ||
		list_member_int(info->roles, CR_QUAL_KEY_ARRAY))
		return false;
	*keyattno = get_attnum(root->simple_rte_array[baserel->relid]->relid,
						   cr_key_column(info->res));
	rows = cr_rows_per_record(info->res, &info->shape);
	path_cost(baserel, cr_requests_per_record(info->res, &info->shape), rows, &startup, cost_per_key);
	*rows_per_key = rows * (info->fetched_rows > 0 ?
							Min(1.0, baserel->rows / info->fetched_rows) : 1.0);
	*serial = info->share_responses;
	return *keyattno != InvalidAttrNumber;
}
