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

/* Rough shape of the data, for estimates (and see callrecords_fdw.h). */
#define CR_EST_RECORDS_IN_TENANT	10000.0 /* 30 days of call records */
#define CR_EST_LOG_ROWS				10000.0 /* rows of a log function window */
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
	int			time_arms;		/* arms of the one OR of time ranges pushed */
	bool		time_unpushed;	/* a local-only condition reads the time column */
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
 * The id a LIKE or ILIKE pattern can only match, when the pattern is a
 * constant without wildcards or escapes: LIKE is then equality, and ILIKE
 * equality up to case (Graph ids are GUIDs, looked up whatever their case,
 * so the lower-case spelling fetches the record).  NULL otherwise.
 */
static Expr *
like_as_id(OpExpr *op, RelOptInfo *baserel, AttrNumber keyattno)
{
	Const	   *pat = (Const *) strip_relabel(lsecond(op->args));
	char	   *id;

	if ((op->opno != OID_TEXT_LIKE_OP && op->opno != OID_TEXT_ICLIKE_OP) ||
		!is_column_var(linitial(op->args), baserel, keyattno) ||
		pat == NULL || !IsA(pat, Const) || pat->constisnull)
		return NULL;
	id = TextDatumGetCString(pat->constvalue);
	if (strpbrk(id, "%_\\") != NULL)
		return NULL;
	if (op->opno == OID_TEXT_ICLIKE_OP)
	{
		char	   *p;

		for (p = id; *p; p++)
			*p = pg_ascii_tolower((unsigned char) *p);
	}
	return (Expr *) makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
							  CStringGetTextDatum(id), false, false);
}

/*
 * key = value, or key = ANY(array value) (which is also what IN lists
 * become), or a LIKE that can only mean equality.  Only text equality
 * qualifies: another operator on the key (a case-insensitive one, say)
 * would not mean what a lookup by id means.
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

		if (other == NULL && list_length(op->args) == 2 &&
			(*value = like_as_id(op, baserel, keyattno)) != NULL)
		{
			*role = CR_QUAL_KEY;
			return true;
		}
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

/*
 * The elements of a key value as a list of text expressions: the value
 * itself, or the elements of an array written out (ARRAY[...] or a
 * constant).  NIL for an array known only at run time.
 */
static List *
key_elements(Expr *value, CrQualRole role)
{
	List	   *elems = NIL;

	if (role == CR_QUAL_KEY)
		return list_make1(value);
	if (IsA(value, ArrayExpr))
		return list_copy(((ArrayExpr *) value)->elements);
	if (IsA(value, Const) && !((Const *) value)->constisnull)
	{
		Datum	   *d;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(DatumGetArrayTypeP(((Const *) value)->constvalue),
						  TEXTOID, -1, false, TYPALIGN_INT, &d, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				elems = lappend(elems, makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
												 d[i], false, false));
	}
	return elems;
}

/*
 * (key = a) OR (key = b) OR key IN (...), as Tableau writes an id list: one
 * array of every id the arms name.  Every arm must be such a condition.
 */
static bool
match_key_or(Expr *clause, RelOptInfo *baserel, AttrNumber keyattno, Expr **value)
{
	List	   *elems = NIL;
	ListCell   *lc;
	ArrayExpr  *arr;

	if (!is_orclause(clause))
		return false;
	foreach(lc, ((BoolExpr *) clause)->args)
	{
		Expr	   *v;
		CrQualRole	role;
		List	   *these;

		if (!match_key_qual(lfirst(lc), baserel, keyattno, &v, &role) ||
			exprType((Node *) v) != (role == CR_QUAL_KEY ? TEXTOID : TEXTARRAYOID) ||
			(these = key_elements(v, role)) == NIL)
			return false;
		elems = list_concat(elems, these);
	}
	arr = makeNode(ArrayExpr);
	arr->array_typeid = TEXTARRAYOID;
	arr->element_typeid = TEXTOID;
	arr->elements = elems;
	arr->multidims = false;
	arr->location = -1;
	*value = (Expr *) arr;
	return true;
}

/*
 * How a condition reads the time column: the column itself, its date in
 * the session time zone (CAST(col AS date), col::date), or date_trunc of
 * it.  A condition on the date or the truncated time is the range of the
 * column it implies, so every spelling BI tools use for "a day" narrows
 * the request the same way.
 */
typedef enum CrTimeForm
{
	CR_TF_PLAIN,				/* col <op> value */
	CR_TF_DATE,					/* col::date <op> date value */
	CR_TF_TRUNC					/* date_trunc('unit', col) <op> value */
} CrTimeForm;

/* The length of a date_trunc unit, or NULL for a unit we do not know. */
static Interval *
trunc_unit_interval(const char *unit)
{
	static const struct
	{
		const char *name;
		int32		months;
		int32		days;
		int64		usecs;
	}			units[] = {
		{"microseconds", 0, 0, 1}, {"milliseconds", 0, 0, 1000},
		{"second", 0, 0, USECS_PER_SEC}, {"minute", 0, 0, USECS_PER_MINUTE},
		{"hour", 0, 0, USECS_PER_HOUR}, {"day", 0, 1, 0}, {"week", 0, 7, 0},
		{"month", 1, 0, 0}, {"quarter", 3, 0, 0}, {"year", 12, 0, 0},
		{"decade", 120, 0, 0}, {"century", 1200, 0, 0}, {"millennium", 12000, 0, 0}
	};
	size_t		i;

	for (i = 0; i < lengthof(units); i++)
	{
		if (pg_strcasecmp(unit, units[i].name) == 0)
		{
			Interval   *iv = palloc0(sizeof(Interval));

			iv->month = units[i].months;
			iv->day = units[i].days;
			iv->time = units[i].usecs;
			return iv;
		}
	}
	return NULL;
}

/*
 * Whether n reads the time column, and in which form; for date_trunc, the
 * length of its unit.
 */
static bool
time_column_form(Node *n, RelOptInfo *baserel, AttrNumber attno,
				 CrTimeForm *form, Interval **unit)
{
	FuncExpr   *f = (FuncExpr *) strip_relabel(n);

	if (is_column_var(n, baserel, attno))
	{
		*form = CR_TF_PLAIN;
		return true;
	}
	if (f == NULL || !IsA(f, FuncExpr))
		return false;
	if (f->funcid == F_DATE_TIMESTAMPTZ && list_length(f->args) == 1 &&
		is_column_var(linitial(f->args), baserel, attno))
	{
		*form = CR_TF_DATE;
		return true;
	}
	if (f->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ && list_length(f->args) == 2 &&
		IsA(linitial(f->args), Const) && !((Const *) linitial(f->args))->constisnull &&
		is_column_var(lsecond(f->args), baserel, attno))
	{
		*unit = trunc_unit_interval(TextDatumGetCString(((Const *) linitial(f->args))->constvalue));
		*form = CR_TF_TRUNC;
		return *unit != NULL;
	}
	return false;
}

/*
 * The btree strategy of opno comparing lefttype with righttype, or 0 when
 * the operator is no such comparison.
 */
static int
comparison_strategy(Oid opno, Oid lefttype, Oid righttype)
{
	List	   *interps = get_op_btree_interpretation(opno);
	ListCell   *lc;

	foreach(lc, interps)
	{
		OpBtreeInterpretation *i = lfirst(lc);

		if (i->oplefttype == lefttype && i->oprighttype == righttype)
			return i->strategy;
	}
	return 0;
}

/* A one-argument call of a built-in function, for values built at plan time. */
static Expr *
make_call(Oid funcid, Oid rettype, List *args)
{
	return (Expr *) makeFuncExpr(funcid, rettype, args, InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

/*
 * value as a timestamptz, converted the way the comparison operator would
 * convert it: a timestamp or date is read in the session time zone when
 * the scan starts (the conversion is stable, so it is evaluated then, like
 * the other run-time values).
 */
static Expr *
as_timestamptz(Expr *value, Oid type)
{
	if (type == TIMESTAMPOID)
		return make_call(F_TIMESTAMPTZ_TIMESTAMP, TIMESTAMPTZOID, list_make1(value));
	if (type == DATEOID)
		return make_call(F_TIMESTAMPTZ_DATE, TIMESTAMPTZOID, list_make1(value));
	return value;
}

/* The start of the day after a date, as a timestamptz. */
static Expr *
day_after(Expr *date)
{
	Expr	   *next = make_call(F_DATE_PLI, DATEOID,
								 list_make2(date, makeConst(INT4OID, -1, InvalidOid, 4,
															Int32GetDatum(1), false, true)));

	return as_timestamptz(next, DATEOID);
}

/* value + unit, the end of a date_trunc bucket that starts at value. */
static Expr *
plus_unit(Expr *value, Interval *unit)
{
	return make_call(F_TIMESTAMPTZ_PL_INTERVAL, TIMESTAMPTZOID,
					 list_make2(value, makeConst(INTERVALOID, -1, InvalidOid, sizeof(Interval),
												 PointerGetDatum(unit), false, false)));
}

/* Append one pushed value with its role (and the OR arm it belongs to). */
static void
push_value(CrRelInfo *info, Expr *value, CrQualRole role, int arm)
{
	info->exprs = lappend(info->exprs, value);
	info->roles = lappend_int(info->roles, CR_ROLE(role, arm));
}

/*
 * "time column <op> value", in any form of time_column_form, with op one
 * of < <= = >= > and value a timestamptz, timestamp or date (a date only
 * against the column's date).  Appends the bounds on the column it
 * implies: a condition on the date or on a truncation is the range of
 * times that can satisfy it (a superset where the value is not on a
 * boundary, which the local recheck trims).
 */
static bool
match_time_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel,
				AttrNumber attno, int arm)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *l,
			   *r,
			   *other;
	CrTimeForm	form;
	Interval   *unit = NULL;
	Oid			other_type;
	int			s;
	Expr	   *v,
			   *end;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2 || attno == InvalidAttrNumber)
		return false;
	l = linitial(op->args);
	r = lsecond(op->args);
	if (time_column_form(l, baserel, attno, &form, &unit))
		other = r;
	else if (time_column_form(r, baserel, attno, &form, &unit))
		other = l;
	else
		return false;
	if (!is_scan_time_value(other))
		return false;
	other_type = exprType(other);
	if (form == CR_TF_DATE ? other_type != DATEOID :
		(other_type != TIMESTAMPTZOID && other_type != TIMESTAMPOID && other_type != DATEOID))
		return false;
	s = other == r ?
		comparison_strategy(op->opno, form == CR_TF_DATE ? DATEOID : TIMESTAMPTZOID, other_type) :
		comparison_strategy(op->opno, other_type, form == CR_TF_DATE ? DATEOID : TIMESTAMPTZOID);
	if (s == 0)
		return false;
	if (other == l)
		s = BTCommuteStrategyNumber(s);

	if (form == CR_TF_PLAIN)
	{
		v = as_timestamptz((Expr *) other, other_type);
		if (s == BTEqualStrategyNumber || s == BTGreaterEqualStrategyNumber)
			push_value(info, v, CR_QUAL_TIME_GE, arm);
		if (s == BTEqualStrategyNumber || s == BTLessEqualStrategyNumber)
			push_value(info, v, CR_QUAL_TIME_LE, arm);
		if (s == BTLessStrategyNumber)
			push_value(info, v, CR_QUAL_TIME_LT, arm);
		if (s == BTGreaterStrategyNumber)
			push_value(info, v, CR_QUAL_TIME_GT, arm);
		return true;
	}

	/* a date d is [d, d + 1 day); a bucket v is [v, v + unit) */
	v = as_timestamptz((Expr *) other, other_type);
	end = form == CR_TF_DATE ? day_after((Expr *) other) : plus_unit(v, unit);
	if (s == BTEqualStrategyNumber || s == BTGreaterEqualStrategyNumber)
		push_value(info, v, CR_QUAL_TIME_GE, arm);
	if (s == BTGreaterStrategyNumber)
		push_value(info, form == CR_TF_DATE ? end : v,
				   form == CR_TF_DATE ? CR_QUAL_TIME_GE : CR_QUAL_TIME_GT, arm);
	if (s == BTEqualStrategyNumber || s == BTLessEqualStrategyNumber)
		push_value(info, end, CR_QUAL_TIME_LT, arm);
	if (s == BTLessStrategyNumber)
		push_value(info, form == CR_TF_DATE ? v : end, CR_QUAL_TIME_LT, arm);
	return true;
}

/*
 * An OR of time ranges on the column (two ranges, BETWEEN SYMMETRIC, NOT
 * BETWEEN): each arm an AND of time conditions.  Its values carry their
 * arm's number; the scan fetches each arm's window once, windows merged so
 * that no row comes twice.  Only one such OR per scan: the windows of two
 * would multiply.
 */
static bool
match_time_or(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, AttrNumber attno)
{
	BoolExpr   *or = (BoolExpr *) clause;
	List	   *saved_exprs = info->exprs;
	List	   *saved_roles = info->roles;
	ListCell   *lc;
	int			arm = 0;

	if (!is_orclause(clause) || attno == InvalidAttrNumber || info->time_arms > 0)
		return false;
	info->exprs = list_copy(info->exprs);
	info->roles = list_copy(info->roles);
	foreach(lc, or->args)
	{
		Expr	   *a = lfirst(lc);
		List	   *conds = is_andclause(a) ? ((BoolExpr *) a)->args : list_make1(a);
		ListCell   *c;

		arm++;
		foreach(c, conds)
		{
			if (!match_time_qual(info, lfirst(c), baserel, attno, arm))
			{
				info->exprs = saved_exprs;
				info->roles = saved_roles;
				return false;
			}
		}
	}
	info->time_arms = arm;
	return true;
}

/* The attnum of a catalogue column of the table, if the table has it. */
static AttrNumber
column_attno(Oid relid, const char *name)
{
	return name ? get_attnum(relid, name) : InvalidAttrNumber;
}

/*
 * "col = value" on a window column of the dial-out report, the value as a
 * timestamptz; NULL if the clause is not that.
 */
static Expr *
window_equality(Expr *clause, RelOptInfo *baserel, AttrNumber attno)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *other;
	Oid			type;
	bool		swapped;

	if (!IsA(op, OpExpr) || attno == InvalidAttrNumber ||
		(other = other_side(op, baserel, attno, &swapped)) == NULL ||
		!is_scan_time_value(other))
		return NULL;
	type = exprType(other);
	if ((type != TIMESTAMPTZOID && type != TIMESTAMPOID && type != DATEOID) ||
		(swapped ? comparison_strategy(op->opno, type, TIMESTAMPTZOID) :
		 comparison_strategy(op->opno, TIMESTAMPTZOID, type)) != BTEqualStrategyNumber)
		return NULL;
	return as_timestamptz((Expr *) other, type);
}

/* Key conditions: one is enough, the others are rechecked. */
static bool
push_key_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid)
{
	const CrResource *res = info->res;
	AttrNumber	keyattno = column_attno(relid, cr_key_column(res));
	Expr	   *value;
	CrQualRole	role;

	if (res->fetch == CR_FETCH_FUNCTION ||
		list_member_int(info->roles, CR_QUAL_KEY) ||
		list_member_int(info->roles, CR_QUAL_KEY_ARRAY))
		return false;
	if (match_key_qual(clause, baserel, keyattno, &value, &role))
	{
		push_value(info, value, role, 0);
		return true;
	}
	if (match_key_or(clause, baserel, keyattno, &value))
	{
		push_value(info, value, CR_QUAL_KEY_ARRAY, 0);
		return true;
	}
	return false;
}

/*
 * Classify one condition; append what it pushes down to info.  Returns
 * false for a condition that is only checked locally.
 */
static bool
push_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid)
{
	const CrResource *res = info->res;
	AttrNumber	timeattno = column_attno(relid, cr_time_column(res));
	Expr	   *value;
	CrQualRole	role;

	if (!cr_enable_pushdown)
		return false;
	if (push_key_qual(info, clause, baserel, relid))
		return true;

	/* a participant id narrows the call record list to the calls it was in */
	if (res->level == CR_LEVEL_PARTICIPANT &&
		!list_member_int(info->roles, CR_QUAL_PARTICIPANT) &&
		match_key_qual(clause, baserel, column_attno(relid, "id"), &value, &role) &&
		role == CR_QUAL_KEY)
	{
		push_value(info, value, CR_QUAL_PARTICIPANT, 0);
		return true;
	}

	if (match_time_qual(info, clause, baserel, timeattno, 0) ||
		match_time_or(info, clause, baserel, timeattno))
		return true;

	if (res->fetch == CR_FETCH_FUNCTION && res->window_column == NULL)
	{
		if ((value = window_equality(clause, baserel, column_attno(relid, "from_date_time"))) != NULL)
		{
			push_value(info, value, CR_QUAL_WINDOW_FROM, 0);
			return true;
		}
		if ((value = window_equality(clause, baserel, column_attno(relid, "to_date_time"))) != NULL)
		{
			push_value(info, value, CR_QUAL_WINDOW_TO, 0);
			return true;
		}
	}
	return false;
}

/*
 * Whether a condition left to the local check reads the time column.  A
 * log function then must not fall back to its implicit window (the rows
 * the condition asks for may lie outside it): the scan raises an error
 * that says how to write the condition instead.
 */
static bool
reads_time_column(Expr *clause, RelOptInfo *baserel, Oid relid, const CrResource *res)
{
	AttrNumber	attno = column_attno(relid, cr_time_column(res));
	Bitmapset  *attrs = NULL;

	if (attno == InvalidAttrNumber)
		return false;
	pull_varattnos((Node *) clause, baserel->relid, &attrs);
	return bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, attrs);
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
double
cr_rows_per_record(const CrResource *res)
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

/*
 * A pushed time value as the planner can guess it: constants, and stable
 * expressions such as now() - interval '7 days' folded for the estimate.
 * False when it cannot tell (a parameter of a generic plan, say).
 */
static bool
guess_time(PlannerInfo *root, Expr *value, TimestampTz *t)
{
	Node	   *n = estimate_expression_value(root, (Node *) value);

	if (!IsA(n, Const) || ((Const *) n)->constisnull ||
		((Const *) n)->consttype != TIMESTAMPTZOID)
		return false;
	*t = DatumGetTimestampTz(((Const *) n)->constvalue);
	return true;
}

/*
 * The share of the reference span (the 30 days Graph keeps call records,
 * or a log function's 90-day window) that the bounds of arm 0 and the
 * given arm cover; more than 1 for a long range of a log function.  A
 * bound the planner cannot guess counts as half the span.
 */
static double
arm_time_fraction(PlannerInfo *root, CrRelInfo *info, int arm, double span_days)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	double		span = span_days * USECS_PER_DAY;
	TimestampTz lower = now - (TimestampTz) span,
				upper = now;
	bool		guessed = true;
	ListCell   *le,
			   *lr;

	forboth(le, info->exprs, lr, info->roles)
	{
		int			r = lfirst_int(lr);
		CrQualRole	role = CR_ROLE_BASE(r);
		TimestampTz t;

		if ((CR_ROLE_ARM(r) != 0 && CR_ROLE_ARM(r) != arm) ||
			role < CR_QUAL_TIME_GE || role > CR_QUAL_TIME_LT)
			continue;
		if (!guess_time(root, lfirst(le), &t))
			guessed = false;
		else if (TIMESTAMP_NOT_FINITE(t))
			continue;
		else if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT)
			lower = (info->res->fetch == CR_FETCH_FUNCTION || t > lower) ? t : lower;
		else
			upper = Min(upper, t);
	}
	if (!guessed)
		return 0.5;
	return Max(upper - lower, USECS_PER_HOUR) / span;
}

/* The share of the span the pushed time conditions cover, all arms together. */
static double
time_fraction(PlannerInfo *root, CrRelInfo *info, double span_days)
{
	double		f = 0;
	int			arm;

	if (info->time_arms == 0)
		return arm_time_fraction(root, info, 0, span_days);
	for (arm = 1; arm <= info->time_arms; arm++)
		f += arm_time_fraction(root, info, arm, span_days);
	return f;
}

/* Estimate rows fetched and requests made, before local conditions. */
static void
estimate_fetch(PlannerInfo *root, CrRelInfo *info, RelOptInfo *baserel)
{
	const CrResource *res = info->res;
	double		keys = key_count(info->exprs, info->roles);

	if (res->fetch == CR_FETCH_FUNCTION)
	{
		double		windows = Max(1.0, ceil(time_fraction(root, info, 90.0)));

		info->fetched_rows = CR_EST_LOG_ROWS * time_fraction(root, info, 90.0);
		info->requests = windows + info->fetched_rows / cr_page_size(res);
	}
	else if (keys > 0)
	{
		info->fetched_rows = keys * cr_rows_per_record(res);
		info->requests = keys * (res->fetch == CR_FETCH_RECORDS ? 1.0 :
								 1.0 + cr_rows_per_record(res) / cr_page_size(res));
	}
	else if (res->fetch == CR_FETCH_RECORDS)
	{
		info->fetched_rows = CR_EST_RECORDS_IN_TENANT * Min(1.0, time_fraction(root, info, 30.0));
		info->requests = 1.0 + info->fetched_rows / cr_page_size(res);
	}
	else
	{
		/* list the call records, then fetch each: the expensive plan */
		double		records = CR_EST_RECORDS_IN_TENANT * Min(1.0, time_fraction(root, info, 30.0));

		info->fetched_rows = records * cr_rows_per_record(res);
		info->requests = records / cr_page_size(cr_find_resource("call_records")) +
			records * (1.0 + cr_rows_per_record(res) / cr_page_size(res));
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
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (!push_qual(info, ri->clause, baserel, foreigntableid))
		{
			local_conds = lappend(local_conds, ri);
			if (cr_enable_pushdown &&
				reads_time_column(ri->clause, baserel, foreigntableid, info->res))
				info->time_unpushed = true;
		}
	}
	info->retrieved_attrs = needed_attrs(baserel);
	estimate_fetch(root, info, baserel);
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
		double		rows = cr_rows_per_record(info->res);
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
				  1.0 + rows / cr_page_size(info->res),
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
		const char *key = cr_key_column(info->res);
		AttrNumber	keyattno = get_attnum(foreigntableid, key);

		if (keyattno != InvalidAttrNumber)
			add_key_param_paths(root, baserel, info, keyattno);
	}
}

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

	/* a parameterized path: the outer value becomes a Param at execution */
	if (best_path->fdw_private != NIL)
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
	fdw_private = cr_scan_plan_write(&plan);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							exprs, fdw_private,
							NIL, NIL, outer_plan);
}
