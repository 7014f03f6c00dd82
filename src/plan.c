/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  Planning a scan: which conditions become part of the Graph
 *		  requests, how many rows and requests to expect, which columns the
 *		  query needs.
 *
 * The rule this file keeps: a condition is used to choose what to fetch,
 * but every condition stays in the plan's qual and is rechecked locally,
 * so pushing a condition down can narrow the requests but never change
 * the answer.  The conditions used are:
 *
 *	- key = value, key = ANY(array), key IN (...): the key is
 *	  call_record_id on tables fetched per call record, id on call_records;
 *	- comparisons of start_date_time on call_records, and of
 *	  call_start_date_time on the tables below a call record ($filter of
 *	  the call record list), and of the window column of a log table (its
 *	  fromDateTime/toDateTime);
 *	- from_date_time = value, to_date_time = value on the dial-out report;
 *	- participants.id = value, which narrows the call record list that
 *	  participants without a call_record_id condition go through.
 *
 * A value is anything the executor can compute once before the scan
 * starts: constants, parameters of prepared statements, and stable
 * expressions such as now() - interval '1 day'.
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

#include "callrecords_fdw.h"

#include "access/nbtree.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
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
#include "utils/lsyscache.h"

/* Rough shape of the data, for estimates. */
#define CR_EST_SESSIONS_PER_RECORD	8.0
#define CR_EST_PARTICIPANTS_PER_RECORD 6.0
#define CR_EST_CHILDREN_PER_PARENT	1.5
#define CR_EST_RECORDS_IN_TENANT	10000.0 /* 30 days of call records */
#define CR_EST_LOG_ROWS				10000.0 /* rows of a log function window */
#define CR_PAGE_SIZE_RECORDS		60.0
#define CR_PAGE_SIZE_LOG			1000.0
/* Cost of one Graph request in planner units: ~100 ms of remote work. */
#define CR_REQUEST_COST				10000.0

/* Planner state kept in baserel->fdw_private. */
typedef struct CrRelInfo
{
	const CrResource *res;
	List	   *exprs;			/* pushed values, become fdw_exprs */
	List	   *roles;			/* CrQualRole of each, in the same order */
	List	   *retrieved_attrs;	/* attnums the query reads */
	double		fetched_rows;	/* rows Graph returns before local quals */
	double		requests;		/* estimated Graph requests */
	int			page_size_hint; /* Prefer: odata.maxpagesize, or 0 */
	bool		expand_segments;	/* sessions come with their segments */
	bool		share_responses;	/* other scans of the query may reuse pages */
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

	return attno != InvalidAttrNumber && v && IsA(v, Var) &&
		(Index) v->varno == baserel->relid &&
		v->varattno == attno && v->varlevelsup == 0;
}

/*
 * For "column <op> other" or "other <op> column" with a two-argument
 * operator: the other side, and whether the column was on the right (the
 * operator then reads the other way round).  NULL if neither side is the
 * column.
 */
static Node *
other_side(OpExpr *op, RelOptInfo *baserel, AttrNumber attno, bool *swapped)
{
	Node	   *l,
			   *r;

	if (list_length(op->args) != 2)
		return NULL;
	l = linitial(op->args);
	r = lsecond(op->args);
	*swapped = false;
	if (is_column_var(l, baserel, attno))
		return r;
	if (is_column_var(r, baserel, attno))
	{
		*swapped = true;
		return l;
	}
	return NULL;
}

/*
 * A value the executor can compute before the scan starts, and again at
 * each rescan: no Vars of the scanned table, no volatile functions, no
 * sub-selects of its own.  Parameters of every kind qualify: the
 * statement's ($1), an initplan's (ANY(ARRAY(SELECT ...)) hands a whole
 * batch of ids over at once) and an outer query's in a correlated
 * subquery; a changed executor parameter triggers a rescan, which
 * evaluates the values again.
 */
static bool
is_scan_time_value(Node *n)
{
	return n != NULL &&
		!contain_var_clause(n) &&
		!contain_volatile_functions(n) &&
		!contain_subplans(n);
}

/*
 * key = value, or key = ANY(array value) (which is also what IN lists
 * become).  Only text equality qualifies: another operator on the key (a
 * case-insensitive one, say) would not mean what a lookup by id means.
 */
static bool
match_key_qual(Expr *clause, RelOptInfo *baserel, AttrNumber keyattno,
			   Expr **value, CrQualRole *role)
{
	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		bool		swapped;
		Node	   *other = op->opno == TextEqualOperator ?
			other_side(op, baserel, keyattno, &swapped) : NULL;

		if (other == NULL || !is_scan_time_value(other))
			return false;
		*value = (Expr *) other;
		*role = CR_QUAL_KEY;
		return true;
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || saop->opno != TextEqualOperator ||
			!is_column_var(linitial(saop->args), baserel, keyattno) ||
			!is_scan_time_value(lsecond(saop->args)))
			return false;
		*value = (Expr *) lsecond(saop->args);
		*role = CR_QUAL_KEY_ARRAY;
		return true;
	}
	return false;
}

/* The comparison strategy of a timestamptz-to-timestamptz btree operator. */
static int
timestamptz_strategy(Oid opno)
{
	List	   *interps = get_op_btree_interpretation(opno);
	ListCell   *lc;

	foreach(lc, interps)
	{
		OpBtreeInterpretation *i = lfirst(lc);

		if (i->oplefttype == TIMESTAMPTZOID && i->oprighttype == TIMESTAMPTZOID)
			return i->strategy;
	}
	return 0;
}

/*
 * column <op> value with op one of < <= = >= >, for a timestamptz column;
 * the role says which bound it sets ("=" sets both, as two roles).
 */
static bool
match_time_qual(Expr *clause, RelOptInfo *baserel, AttrNumber attno,
				Expr **value, int *strategy)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *other;
	bool		swapped;
	int			s;

	if (!IsA(op, OpExpr) || (s = timestamptz_strategy(op->opno)) == 0)
		return false;
	other = other_side(op, baserel, attno, &swapped);
	if (other == NULL || !is_scan_time_value(other))
		return false;
	*value = (Expr *) other;
	*strategy = swapped ? BTCommuteStrategyNumber(s) : s;
	return true;
}

/* The attnum of a catalogue column of the table, if the table has it. */
static AttrNumber
column_attno(Oid relid, const char *name)
{
	return name ? get_attnum(relid, name) : InvalidAttrNumber;
}

/*
 * Classify one condition; append what it pushes down to info.  Returns
 * false for a condition that is only checked locally.
 */
static bool
push_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid)
{
	const CrResource *res = info->res;
	Expr	   *value;
	CrQualRole	role;
	int			strategy;

	if (!cr_enable_pushdown)
		return false;
	if (res->fetch != CR_FETCH_FUNCTION)
	{
		const char *key = res->fetch == CR_FETCH_RECORDS ? "id" : "call_record_id";

		/* one key condition is enough: the others are rechecked */
		if (!list_member_int(info->roles, CR_QUAL_KEY) &&
			!list_member_int(info->roles, CR_QUAL_KEY_ARRAY) &&
			match_key_qual(clause, baserel, column_attno(relid, key), &value, &role))
		{
			info->exprs = lappend(info->exprs, value);
			info->roles = lappend_int(info->roles, role);
			return true;
		}
	}

	/* a participant id narrows the call record list to the calls it was in */
	if (res->level == CR_LEVEL_PARTICIPANT &&
		!list_member_int(info->roles, CR_QUAL_PARTICIPANT) &&
		match_key_qual(clause, baserel, column_attno(relid, "id"), &value, &role) &&
		role == CR_QUAL_KEY)
	{
		info->exprs = lappend(info->exprs, value);
		info->roles = lappend_int(info->roles, CR_QUAL_PARTICIPANT);
		return true;
	}

	if (res->fetch != CR_FETCH_FUNCTION || res->window_column)
	{
		const char *col = res->fetch == CR_FETCH_RECORDS ? "start_date_time" :
		res->fetch == CR_FETCH_RECORD_CHILDREN ? "call_start_date_time" : res->window_column;

		if (match_time_qual(clause, baserel, column_attno(relid, col), &value, &strategy))
		{
			if (strategy == BTLessStrategyNumber)
				role = CR_QUAL_TIME_LT;
			else if (strategy == BTLessEqualStrategyNumber)
				role = CR_QUAL_TIME_LE;
			else if (strategy == BTGreaterEqualStrategyNumber)
				role = CR_QUAL_TIME_GE;
			else if (strategy == BTGreaterStrategyNumber)
				role = CR_QUAL_TIME_GT;
			else
			{
				/* col = value: both bounds */
				info->exprs = lappend(info->exprs, value);
				info->roles = lappend_int(info->roles, CR_QUAL_TIME_GE);
				role = CR_QUAL_TIME_LE;
			}
			info->exprs = lappend(info->exprs, value);
			info->roles = lappend_int(info->roles, role);
			return true;
		}
	}

	if (res->fetch == CR_FETCH_FUNCTION && res->window_column == NULL)
	{
		if (match_time_qual(clause, baserel, column_attno(relid, "from_date_time"),
							&value, &strategy) && strategy == BTEqualStrategyNumber)
		{
			info->exprs = lappend(info->exprs, value);
			info->roles = lappend_int(info->roles, CR_QUAL_WINDOW_FROM);
			return true;
		}
		if (match_time_qual(clause, baserel, column_attno(relid, "to_date_time"),
							&value, &strategy) && strategy == BTEqualStrategyNumber)
		{
			info->exprs = lappend(info->exprs, value);
			info->roles = lappend_int(info->roles, CR_QUAL_WINDOW_TO);
			return true;
		}
	}
	return false;
}

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

/* Rows one call record yields for a table fetched per call record. */
static double
rows_per_record(const CrResource *res)
{
	double		rows;
	CrLevel		level;

	if (res->level == CR_LEVEL_RECORD)
		return 1.0;
	if (res->level == CR_LEVEL_PARTICIPANT)
		return CR_EST_PARTICIPANTS_PER_RECORD;
	rows = CR_EST_SESSIONS_PER_RECORD;
	for (level = res->level; level != CR_LEVEL_SESSION; level = cr_parent_level(level))
		rows *= CR_EST_CHILDREN_PER_PARENT;
	return rows;
}

/* How many distinct keys a key condition names, as far as planning knows. */
static double
key_count(List *exprs, List *roles)
{
	ListCell   *le,
			   *lr;

	forboth(le, exprs, lr, roles)
	{
		Node	   *e = lfirst(le);

		if (lfirst_int(lr) == CR_QUAL_KEY)
			return 1.0;
		if (lfirst_int(lr) == CR_QUAL_KEY_ARRAY)
		{
			if (IsA(e, Const) && !((Const *) e)->constisnull)
				return Max(1, ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) e)->constvalue)),
											 ARR_DIMS(DatumGetArrayTypeP(((Const *) e)->constvalue))));
			if (IsA(e, ArrayExpr))
				return Max(1, list_length(((ArrayExpr *) e)->elements));
			return 10.0;
		}
	}
	return 0.0;
}

/* Estimate rows fetched and requests made, before local conditions. */
static void
estimate_fetch(CrRelInfo *info, RelOptInfo *baserel)
{
	const CrResource *res = info->res;
	double		keys = key_count(info->exprs, info->roles);
	double		bounded = (list_member_int(info->roles, CR_QUAL_TIME_GE) ||
						   list_member_int(info->roles, CR_QUAL_TIME_GT)) ? 0.5 : 1.0;

	if (res->fetch == CR_FETCH_FUNCTION)
	{
		info->fetched_rows = CR_EST_LOG_ROWS * bounded;
		info->requests = 1.0 + info->fetched_rows / CR_PAGE_SIZE_LOG;
	}
	else if (keys > 0)
	{
		info->fetched_rows = keys * rows_per_record(res);
		info->requests = keys * (res->fetch == CR_FETCH_RECORDS ? 1.0 :
								 1.0 + rows_per_record(res) / CR_PAGE_SIZE_RECORDS);
	}
	else if (res->fetch == CR_FETCH_RECORDS)
	{
		info->fetched_rows = CR_EST_RECORDS_IN_TENANT * bounded;
		info->requests = 1.0 + info->fetched_rows / CR_PAGE_SIZE_RECORDS;
	}
	else
	{
		/* list the call records, then fetch each: the expensive plan */
		double		records = CR_EST_RECORDS_IN_TENANT * bounded;

		info->fetched_rows = records * rows_per_record(res);
		info->requests = records / CR_PAGE_SIZE_RECORDS +
			records * (1.0 + rows_per_record(res) / CR_PAGE_SIZE_RECORDS);
	}
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
 * A LIMIT becomes a page-size hint (never a cap) when the scan is the only
 * relation of the query, every condition was pushed down and nothing has
 * to see all rows first (ORDER BY, aggregates: the planner then leaves
 * limit_tuples unset).  Only list requests take the hint.
 */
static int
page_size_hint(PlannerInfo *root, CrRelInfo *info, List *local_conds)
{
	double		page = info->res->fetch == CR_FETCH_FUNCTION ?
		CR_PAGE_SIZE_LOG : CR_PAGE_SIZE_RECORDS;

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
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (!push_qual(info, ri->clause, baserel, foreigntableid))
			local_conds = lappend(local_conds, ri);
	}
	info->retrieved_attrs = needed_attrs(baserel);
	estimate_fetch(info, baserel);
	info->page_size_hint = cr_enable_pushdown ? page_size_hint(root, info, local_conds) : 0;
	statement_scans(root, table->serverid, &info->expand_segments, &info->share_responses);
	if (info->res->level != CR_LEVEL_SESSION)
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
	return is_column_var((Node *) em->em_expr, rel, *(AttrNumber *) arg);
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
	other = other_side(op, baserel, keyattno, &swapped);
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
		double		rows = rows_per_record(info->res);
		Cost		startup,
					total;

		if (outer == NULL ||
			bms_overlap(rinfo->clause_relids, baserel->lateral_referencers))
			continue;
		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		ppi = get_baserel_parampathinfo(root, baserel, required_outer);
		path_cost(baserel,
				  info->res->fetch == CR_FETCH_RECORDS ? 1.0 :
				  1.0 + rows / CR_PAGE_SIZE_RECORDS,
				  rows, &startup, &total);
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL,
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
	add_path(baserel, (Path *) create_foreignscan_path(root, baserel, NULL,
													   baserel->rows,
													   startup, total,
													   NIL, NULL, NULL, NIL));

	if (cr_enable_pushdown && info->res->fetch != CR_FETCH_FUNCTION &&
		!list_member_int(info->roles, CR_QUAL_KEY) &&
		!list_member_int(info->roles, CR_QUAL_KEY_ARRAY))
	{
		const char *key = info->res->fetch == CR_FETCH_RECORDS ? "id" : "call_record_id";
		AttrNumber	keyattno = get_attnum(foreigntableid, key);

		if (keyattno != InvalidAttrNumber)
			add_key_param_paths(root, baserel, info, keyattno);
	}
}

ForeignScan *
cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	CrRelInfo  *info = baserel->fdw_private;
	List	   *exprs = list_copy(info->exprs);
	List	   *roles = list_copy(info->roles);
	List	   *fdw_private;
	int			outer_value = -1;

	/* every condition is rechecked locally, the join clause too */
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	/*
	 * The inner scan of a batched join (batchjoin.c): the join hands it the
	 * outer keys, one array per batch, in place of this NULL placeholder.
	 */
	if (cr_is_batched_inner(best_path))
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

	fdw_private = list_make5(makeString(pstrdup(info->res->name)),
							 info->retrieved_attrs, roles,
							 makeInteger(info->page_size_hint),
							 makeInteger(info->expand_segments ? 1 : 0));
	fdw_private = lappend(fdw_private, makeInteger(info->share_responses ? 1 : 0));
	fdw_private = lappend(fdw_private, makeInteger(root->limit_tuples > 0 ? 1 : 0));
	fdw_private = lappend(fdw_private, makeInteger(outer_value));
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
						   info->res->fetch == CR_FETCH_RECORDS ? "id" : "call_record_id");
	rows = rows_per_record(info->res);
	path_cost(baserel, info->res->fetch == CR_FETCH_RECORDS ? 1.0 :
			  1.0 + rows / CR_PAGE_SIZE_RECORDS, rows, &startup, cost_per_key);
	*rows_per_key = rows * (info->fetched_rows > 0 ?
							Min(1.0, baserel->rows / info->fetched_rows) : 1.0);
	*serial = info->share_responses;
	return *keyattno != InvalidAttrNumber;
}
