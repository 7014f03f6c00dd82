/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		  Which conditions of a scan become part of its Graph requests.
 *
 * A condition is matched here and its value pushed (into the plan's
 * fdw_exprs, with a role that says what it bounds); every condition also
 * stays in the plan's qual and is rechecked locally, so pushing a
 * condition narrows the requests but never changes the answer.  Matched:
 *
 *	- the key (id of call_records, call_record_id below a call record):
 *	  = value, = ANY(array), IN (...), IS NOT DISTINCT FROM value, an OR of
 *	  those, LIKE or ILIKE with a pattern without wildcards;
 *	- the time column (start_date_time, call_start_date_time, a log
 *	  table's window column): < <= = >= > BETWEEN against a timestamptz,
 *	  timestamp or date value, the column's date (col::date) against a
 *	  date, date_trunc('unit', col) against a time, and one OR of such
 *	  ranges per table, as arms (IN lists of such values too);
 *	- from_date_time = value, to_date_time = value of the dial-out report;
 *	- participants.id = value, which narrows the call record list.
 *
 * A value is anything the executor can compute once before the scan
 * starts: constants, parameters, stable expressions.  Conversions of a
 * timestamp or date to timestamptz are added here as stable expressions,
 * so they are evaluated in the session's time zone when the scan starts.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/pushdown.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "access/nbtree.h"
#include "access/sysattr.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "plan_int.h"

Node *
cr_strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

bool
cr_is_column_var(Node *n, RelOptInfo *baserel, AttrNumber attno)
{
	Var		   *v = (Var *) cr_strip_relabel(n);

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
Node *
cr_other_side(OpExpr *op, RelOptInfo *baserel, AttrNumber attno, bool *swapped)
{
	Node	   *l,
			   *r;

	if (list_length(op->args) != 2)
		return NULL;
	l = linitial(op->args);
	r = lsecond(op->args);
	*swapped = false;
	if (cr_is_column_var(l, baserel, attno))
		return r;
	if (cr_is_column_var(r, baserel, attno))
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
	Const	   *pat = (Const *) cr_strip_relabel(lsecond(op->args));
	char	   *id;

	if ((op->opno != OID_TEXT_LIKE_OP && op->opno != OID_TEXT_ICLIKE_OP) ||
		!cr_is_column_var(linitial(op->args), baserel, keyattno) ||
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
 * become), or a LIKE that can only mean equality, or key IS NOT DISTINCT
 * FROM value (as ORMs write it), which is equality too since a key is
 * never null.  Only text equality qualifies: another operator on the key
 * (a case-insensitive one, say) would not mean what a lookup by id means.
 */
static bool
match_key_qual(Expr *clause, RelOptInfo *baserel, AttrNumber keyattno,
			   Expr **value, CrQualRole *role)
{
	if (is_notclause(clause) && IsA(get_notclausearg(clause), DistinctExpr))
	{
		/* a DistinctExpr is an OpExpr of the equality operator */
		OpExpr	   *op = copyObject((OpExpr *) get_notclausearg(clause));

		op->xpr.type = T_OpExpr;
		clause = (Expr *) op;
	}
	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		bool		swapped;
		Node	   *other = op->opno == TextEqualOperator ?
			cr_other_side(op, baserel, keyattno, &swapped) : NULL;

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
			!cr_is_column_var(linitial(saop->args), baserel, keyattno) ||
			!is_scan_time_value(lsecond(saop->args)))
			return false;
		*value = (Expr *) lsecond(saop->args);
		*role = CR_QUAL_KEY_ARRAY;
		return true;
	}
	return false;
}

/*
 * The elements of an array written out (ARRAY[...], or a constant without
 * its NULLs) as expressions of its element type; NIL for an array known
 * only at run time.  An id list and a list of days are read alike.
 */
static List *
array_elements(Node *arr)
{
	List	   *elems = NIL;

	if (IsA(arr, ArrayExpr))
		return list_copy(((ArrayExpr *) arr)->elements);
	if (IsA(arr, Const) && !((Const *) arr)->constisnull)
	{
		ArrayType  *a = DatumGetArrayTypeP(((Const *) arr)->constvalue);
		Oid			elemtype = ARR_ELEMTYPE(a);
		int16		typlen;
		bool		byval;
		char		align;
		Datum	   *d;
		bool	   *nulls;
		int			n,
					i;

		get_typlenbyvalalign(elemtype, &typlen, &byval, &align);
		deconstruct_array(a, elemtype, typlen, byval, align, &d, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				elems = lappend(elems, makeConst(elemtype, -1, get_typcollation(elemtype),
												 typlen, d[i], false, byval));
	}
	return elems;
}

/*
 * The elements of a key value as a list of text expressions: the value
 * itself, or the elements of an array written out.
 */
static List *
key_elements(Expr *value, CrQualRole role)
{
	return role == CR_QUAL_KEY ? list_make1(value) : array_elements((Node *) value);
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
	FuncExpr   *f = (FuncExpr *) cr_strip_relabel(n);

	if (cr_is_column_var(n, baserel, attno))
	{
		*form = CR_TF_PLAIN;
		return true;
	}
	if (f == NULL || !IsA(f, FuncExpr))
		return false;
	if (f->funcid == F_DATE_TIMESTAMPTZ && list_length(f->args) == 1 &&
		cr_is_column_var(linitial(f->args), baserel, attno))
	{
		*form = CR_TF_DATE;
		return true;
	}
	if (f->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ && list_length(f->args) == 2 &&
		IsA(linitial(f->args), Const) && !((Const *) linitial(f->args))->constisnull &&
		cr_is_column_var(lsecond(f->args), baserel, attno))
	{
		*unit = trunc_unit_interval(TextDatumGetCString(((Const *) linitial(f->args))->constvalue));
		*form = CR_TF_TRUNC;
		return *unit != NULL;
	}
	return false;
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
		cr_btree_strategy(op->opno, form == CR_TF_DATE ? DATEOID : TIMESTAMPTZOID, other_type) :
		cr_btree_strategy(op->opno, other_type, form == CR_TF_DATE ? DATEOID : TIMESTAMPTZOID);
	/* < <= = >= > only: "<>" (and anything else) bounds nothing */
	if (s < BTLessStrategyNumber || s > BTGreaterStrategyNumber)
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
 * col::date IN (d1, d2, ...) (or = ANY of a constant array, any form of the
 * column), as Tableau and Metabase write a choice of days: the OR of its
 * equalities, to match_time_or.  NULL if the clause is not that.
 */
static Expr *
time_in_as_or(Expr *clause, RelOptInfo *baserel, AttrNumber attno)
{
	ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
	Node	   *left;
	List	   *elems;
	List	   *arms = NIL;
	CrTimeForm	form;
	Interval   *unit;
	ListCell   *lc;

	if (!IsA(saop, ScalarArrayOpExpr) || !saop->useOr || attno == InvalidAttrNumber)
		return NULL;
	left = linitial(saop->args);
	if (!time_column_form(left, baserel, attno, &form, &unit))
		return NULL;
	/* the elements of a nested ARRAY[ARRAY[...]] are arrays: no match below */
	if ((elems = array_elements(cr_strip_relabel(lsecond(saop->args)))) == NIL)
		return NULL;
	foreach(lc, elems)
		arms = lappend(arms, make_opclause(saop->opno, BOOLOID, false, (Expr *) left,
										   lfirst(lc), InvalidOid, saop->inputcollid));
	return make_orclause(arms);
}

/*
 * An OR of time ranges on the column (two ranges, BETWEEN SYMMETRIC, NOT
 * BETWEEN, a list of days): each arm an AND of time conditions.  Its values carry their
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
AttrNumber
cr_column_attno(Oid relid, const char *name)
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
		(other = cr_other_side(op, baserel, attno, &swapped)) == NULL ||
		!is_scan_time_value(other))
		return NULL;
	type = exprType(other);
	if ((type != TIMESTAMPTZOID && type != TIMESTAMPOID && type != DATEOID) ||
		(swapped ? cr_btree_strategy(op->opno, type, TIMESTAMPTZOID) :
		 cr_btree_strategy(op->opno, TIMESTAMPTZOID, type)) != BTEqualStrategyNumber)
		return NULL;
	return as_timestamptz((Expr *) other, type);
}

/* Key conditions: one is enough, the others are rechecked. */
static bool
push_key_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid)
{
	const CrResource *res = info->res;
	AttrNumber	keyattno = cr_column_attno(relid, cr_key_column(res));
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
bool
cr_push_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid)
{
	const CrResource *res = info->res;
	AttrNumber	timeattno = cr_column_attno(relid, cr_time_column(res));
	Expr	   *value;
	CrQualRole	role;

	if (!cr_enable_pushdown)
		return false;
	if (push_key_qual(info, clause, baserel, relid))
		return true;

	/* a participant id narrows the call record list to the calls it was in */
	if (res->level == CR_LEVEL_PARTICIPANT &&
		!list_member_int(info->roles, CR_QUAL_PARTICIPANT) &&
		match_key_qual(clause, baserel, cr_column_attno(relid, "id"), &value, &role) &&
		role == CR_QUAL_KEY)
	{
		push_value(info, value, CR_QUAL_PARTICIPANT, 0);
		return true;
	}

	if (match_time_qual(info, clause, baserel, timeattno, 0) ||
		match_time_or(info, clause, baserel, timeattno))
		return true;
	if ((value = time_in_as_or(clause, baserel, timeattno)) != NULL &&
		match_time_or(info, value, baserel, timeattno))
		return true;

	if (res->fetch == CR_FETCH_FUNCTION && res->window_column == NULL)
	{
		if ((value = window_equality(clause, baserel, cr_column_attno(relid, "from_date_time"))) != NULL)
		{
			push_value(info, value, CR_QUAL_WINDOW_FROM, 0);
			return true;
		}
		if ((value = window_equality(clause, baserel, cr_column_attno(relid, "to_date_time"))) != NULL)
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
bool
cr_reads_time_column(Expr *clause, RelOptInfo *baserel, Oid relid, const CrResource *res)
{
	AttrNumber	attno = cr_column_attno(relid, cr_time_column(res));
	Bitmapset  *attrs = NULL;

	if (attno == InvalidAttrNumber)
		return false;
	pull_varattnos((Node *) clause, baserel->relid, &attrs);
	return bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, attrs);
}
