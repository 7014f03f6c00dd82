/*-------------------------------------------------------------------------
 *
 * joinpath.c
 *		  Join pushdown: a join of the server's call record tables on their
 *		  keys planned as one foreign scan that walks each record's pages
 *		  once and makes the joined rows directly.
 *
 * call_records, sessions, segments, media and streams are the levels of
 * one tree, which one request chain per call record brings whole
 * (callRecords/{id}?$expand=sessions($expand=segments)).  A join of some
 * of them on all the keys of the shallower one (call_record_id, then
 * session_index, segment_index, media_index) pairs each object with
 * exactly the objects below it: the rows of the walk over the deepest
 * table, with the other tables' columns read from the objects above.
 * participants hang from a call record too, in a chain of their own
 * (callRecords/{id}?$expand=participants_v2): call_records joined to
 * participants on call_record_id is that chain's walk.
 *
 * Rules kept here, as postgres_fdw keeps them for its joins:
 *	- a join is pushed only when it is exactly that walk: inner joins on
 *	  every key, or a left join whose ON clause is exactly the keys (or
 *	  the constant true PostgreSQL 16 and later leave of keys a WHERE
 *	  fixed to a value on both sides) and whose nullable side has no
 *	  condition of its own (its rows are then null-extended by the walk:
 *	  rows.c); anything else (a full join, a
 *	  key missing, a condition Graph cannot evaluate on the nullable side,
 *	  participants with sessions or below, the log tables) keeps the paths
 *	  of the tables alone;
 *	- every condition of an inner join and of the tables is rechecked
 *	  locally on the joined row, as for one table; the keys of a left join
 *	  hold by construction (they cannot be rechecked above the join);
 *	- the pushed values (ids, time windows) of every table whose rows all
 *	  appear in the join narrow the requests; those of a nullable side do
 *	  not, since its conditions select its rows, not the records;
 *	- nothing of a user mapping goes into the plan.
 *
 * This file stands above plan.c: it calls plan.c, estimate.c and
 * pushdown.c's facts of the tables, and is the planner entry for both
 * base and join relations (cr_get_foreign_plan_any).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/joinpath.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_scan.h"

#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "plan_int.h"

/* One table of a pushed join. */
typedef struct CrJoinMember
{
	Index		relid;			/* range table index */
	Oid			tableid;
	CrLevel		level;
	CrRelInfo  *info;			/* its CrRelInfo (plan.c) */
	bool		narrows;		/* its pushed values narrow the requests */
} CrJoinMember;

/* Planner state of a pushed join, in joinrel->fdw_private. */
typedef struct CrJoinInfo
{
	List	   *members;		/* CrJoinMember *, shallowest first */
	List	   *bounds;			/* per left join: Integer pairs (first
								 * level of the nullable side, its deepest
								 * level) */
	List	   *quals;			/* clauses rechecked on the joined row */
	List	   *equal;			/* key equalities relied on: IntList of
								 * relid, attno, relid, attno */
	char	   *relations;		/* "sessions s", "(sessions s) INNER JOIN (streams st)" */
	CrRelInfo  *fetch;			/* the requests of the pushed join */
} CrJoinInfo;

/* The key column of a table for one level of the tree, or NULL. */
static const char *
level_key_name(const CrResource *res, CrLevel key)
{
	switch (key)
	{
		case CR_LEVEL_RECORD:
			return cr_key_column(res);
		case CR_LEVEL_SESSION:
			return "session_index";
		case CR_LEVEL_SEGMENT:
			return "segment_index";
		case CR_LEVEL_MEDIA:
			return "media_index";
		default:
			return NULL;
	}
}

/*
 * The attnum of a table's key column for a level, or InvalidAttrNumber
 * when the table has no such column or maps it elsewhere with a "path"
 * option (it would then not be the key the walk guarantees).
 */
static AttrNumber
member_key_attno(const CrJoinMember *m, CrLevel key)
{
	const char *name = level_key_name(m->info->res, key);
	AttrNumber	attno;
	ListCell   *lc;

	if (name == NULL)
		return InvalidAttrNumber;
	attno = get_attnum(m->tableid, name);
	if (attno == InvalidAttrNumber)
		return InvalidAttrNumber;
	foreach(lc, GetForeignColumnOptions(m->tableid, attno))
		if (strcmp(((DefElem *) lfirst(lc))->defname, "path") == 0)
			return InvalidAttrNumber;
	return attno;
}

/*
 * A table of the call record tree that one request chain per record
 * brings: call_records and the tables below it, sessions or participants.
 */
static bool
tree_table(const CrResource *res)
{
	return (res->fetch == CR_FETCH_RECORDS || res->fetch == CR_FETCH_RECORD_CHILDREN) &&
		res->level >= CR_LEVEL_RECORD && res->level <= CR_LEVEL_PARTICIPANT;
}

/* The rel's alias as EXPLAIN names it: "sessions s", or "sessions". */
static char *
member_name(PlannerInfo *root, Index relid)
{
	RangeTblEntry *rte = planner_rt_fetch(relid, root);
	char	   *relname = get_rel_name(rte->relid);

	if (rte->eref && strcmp(rte->eref->aliasname, relname) != 0)
		return psprintf("%s %s", relname, rte->eref->aliasname);
	return relname;
}

/*
 * The join state of a rel: a one-member state for a base table of the
 * tree, the pushed join's own for a join rel, NULL for anything else.
 */
static CrJoinInfo *
side_info(PlannerInfo *root, RelOptInfo *rel)
{
	CrJoinInfo *ji;
	CrJoinMember *m;
	ListCell   *lc;

	if (IS_JOIN_REL(rel))
		return (CrJoinInfo *) rel->fdw_private;
	if (rel->reloptkind != RELOPT_BASEREL || rel->fdw_private == NULL ||
		!tree_table(((CrRelInfo *) rel->fdw_private)->res))
		return NULL;
	m = palloc0(sizeof(CrJoinMember));
	m->relid = rel->relid;
	m->tableid = planner_rt_fetch(rel->relid, root)->relid;
	m->info = rel->fdw_private;
	m->level = m->info->res->level;
	m->narrows = true;
	ji = palloc0(sizeof(CrJoinInfo));
	ji->members = list_make1(m);
	foreach(lc, rel->baserestrictinfo)
		ji->quals = lappend(ji->quals, ((RestrictInfo *) lfirst(lc))->clause);
	ji->relations = member_name(root, rel->relid);
	return ji;
}

/*
 * The members of both sides, shallowest first; NIL if two share a level,
 * or if participants come with sessions or below (two chains per record).
 */
static List *
merged_members(CrJoinInfo *a, CrJoinInfo *b)
{
	List	   *all = list_concat(list_copy(a->members), b->members);
	List	   *sorted = NIL;
	CrLevel		l;

	for (l = CR_LEVEL_RECORD; l <= CR_LEVEL_PARTICIPANT; l++)
	{
		ListCell   *lc;
		int			n = 0;

		foreach(lc, all)
		{
			if (((CrJoinMember *) lfirst(lc))->level == l)
			{
				sorted = lappend(sorted, lfirst(lc));
				n++;
			}
		}
		if (n > 1)
			return NIL;
	}
	if (((CrJoinMember *) llast(sorted))->level == CR_LEVEL_PARTICIPANT &&
		list_length(sorted) > 1 &&
		((CrJoinMember *) list_nth(sorted, list_length(sorted) - 2))->level != CR_LEVEL_RECORD)
		return NIL;
	return sorted;
}

/* The deepest level of a side's members. */
static CrLevel
deepest_level(CrJoinInfo *ji)
{
	return ((CrJoinMember *) llast(ji->members))->level;
}

/* The shallowest level of a side's members. */
static CrLevel
shallowest_level(CrJoinInfo *ji)
{
	return ((CrJoinMember *) linitial(ji->members))->level;
}

/*
 * "a.x = b.y" between two plain columns of the query level, as the pair
 * (relid, attno) of each side; false for anything else.
 */
static bool
column_equality(Expr *clause, int *r1, int *a1, int *r2, int *a2)
{
	OpExpr	   *op = (OpExpr *) clause;
	Var		   *l,
			   *r;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
		!op_mergejoinable(op->opno, exprType(linitial(op->args))))
		return false;
	l = (Var *) cr_strip_relabel(linitial(op->args));
	r = (Var *) cr_strip_relabel(lsecond(op->args));
	if (!IsA(l, Var) || !IsA(r, Var) || l->varlevelsup != 0 || r->varlevelsup != 0)
		return false;
	*r1 = l->varno;
	*a1 = l->varattno;
	*r2 = r->varno;
	*a2 = r->varattno;
	return true;
}

/* Classes of equal columns: (relid, attno) pairs, by union of the known equalities. */
typedef struct CrEqual
{
	List	   *cols;			/* IntList of relid * 10000 + attno */
	List	   *class;			/* IntList: class of each */
} CrEqual;

static int
equal_class(CrEqual *eq, int relid, int attno)
{
	int			key = relid * 10000 + attno;
	ListCell   *a,
			   *b;

	forboth(a, eq->cols, b, eq->class)
		if (lfirst_int(a) == key)
			return lfirst_int(b);
	eq->cols = lappend_int(eq->cols, key);
	eq->class = lappend_int(eq->class, key);
	return key;
}

static void
equal_union(CrEqual *eq, int r1, int a1, int r2, int a2)
{
	int			c1 = equal_class(eq, r1, a1),
				c2 = equal_class(eq, r2, a2);
	ListCell   *lc;

	foreach(lc, eq->class)
		if (lfirst_int(lc) == c2)
			lfirst_int(lc) = c1;
}

/*
 * The equalities between columns the join may rely on: the equivalence
 * classes (equalities the planner enforces wherever both columns meet),
 * the equalities the sides relied on, and the given clauses.
 */
static void
collect_equalities(PlannerInfo *root, CrEqual *eq, List *sides, List *clauses)
{
	ListCell   *lc;

	foreach(lc, root->eq_classes)
	{
		EquivalenceClass *ec = lfirst(lc);
		Var		   *first = NULL;
		ListCell   *mc;

		if (ec->ec_has_volatile || ec->ec_broken)
			continue;
		foreach(mc, ec->ec_members)
		{
			Var		   *v = (Var *) cr_strip_relabel((Node *) ((EquivalenceMember *) lfirst(mc))->em_expr);

			if (!IsA(v, Var) || v->varlevelsup != 0)
				continue;
			if (first == NULL)
				first = v;
			else
				equal_union(eq, first->varno, first->varattno, v->varno, v->varattno);
		}
	}
	foreach(lc, sides)
	{
		List	   *pairs = lfirst(lc);
		ListCell   *pc;

		foreach(pc, pairs)
		{
			List	   *p = lfirst(pc);

			equal_union(eq, linitial_int(p), lsecond_int(p), lthird_int(p), lfourth_int(p));
		}
	}
	foreach(lc, clauses)
	{
		int			r1,
					a1,
					r2,
					a2;

		if (column_equality(lfirst(lc), &r1, &a1, &r2, &a2))
			equal_union(eq, r1, a1, r2, a2);
	}
}

/*
 * Whether each table is joined to the next shallower one on every key of
 * that one's level: then the walk pairs exactly the rows the join pairs.
 * The pairs relied on are added to *pairs.
 */
static bool
keys_join_tree(CrEqual *eq, List *members, List **pairs)
{
	int			i;

	for (i = 1; i < list_length(members); i++)
	{
		CrJoinMember *up = list_nth(members, i - 1);
		CrJoinMember *down = list_nth(members, i);
		CrLevel		k;

		for (k = CR_LEVEL_RECORD; k <= up->level; k++)
		{
			AttrNumber	ua = member_key_attno(up, k),
						da = member_key_attno(down, k);

			if (ua == InvalidAttrNumber || da == InvalidAttrNumber ||
				equal_class(eq, up->relid, ua) != equal_class(eq, down->relid, da))
				return false;
			*pairs = lappend(*pairs, list_make4_int(up->relid, ua, down->relid, da));
		}
	}
	return true;
}

/* The key level a column of a member is the key of, or CR_NO_LEVEL. */
static CrLevel
member_key_level(List *members, int relid, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, members)
	{
		CrJoinMember *m = lfirst(lc);
		CrLevel		k;

		if ((Index) relid != m->relid || attno == InvalidAttrNumber)
			continue;
		for (k = CR_LEVEL_RECORD; k <= m->level && k <= CR_LEVEL_MEDIA; k++)
			if (member_key_attno(m, k) == attno)
				return k;
	}
	return CR_NO_LEVEL;
}

/*
 * Whether a clause of a left join's ON is one of the key equalities
 * between its two sides, which the walk guarantees.
 */
static bool
is_key_equality(Expr *clause, List *members, Relids outer, Relids inner)
{
	int			r1,
				a1,
				r2,
				a2;
	CrLevel		k;

	if (!column_equality(clause, &r1, &a1, &r2, &a2) ||
		!((bms_is_member(r1, outer) && bms_is_member(r2, inner)) ||
		  (bms_is_member(r1, inner) && bms_is_member(r2, outer))))
		return false;
	k = member_key_level(members, r1, a1);
	return k != CR_NO_LEVEL && k == member_key_level(members, r2, a2);
}

/*
 * "key = value" (value free of the join's columns): the key's level, its
 * column and the value, or false.
 */
static bool
key_restriction(Expr *clause, List *members, CrLevel *k, OpExpr **op, Var **key,
				Node **value)
{
	Node	   *l,
			   *r;

	*op = (OpExpr *) clause;
	if (!IsA(*op, OpExpr) || list_length((*op)->args) != 2)
		return false;
	l = cr_strip_relabel(linitial((*op)->args));
	r = cr_strip_relabel(lsecond((*op)->args));
	if (IsA(r, Var) && !IsA(l, Var))
	{
		Node	   *t = l;

		l = r;
		r = t;
	}
	if (!IsA(l, Var) || contain_var_clause(r))
		return false;
	*key = (Var *) l;
	*k = member_key_level(members, (*key)->varno, (*key)->varattno);
	*value = r;
	return *k != CR_NO_LEVEL;
}

/*
 * Whether a condition of the nullable side is "key = value" where the
 * outer side has the same condition on the same key: the planner derives
 * it from the ON clause (s.call_record_id = 'x' gives sg.call_record_id =
 * 'x'), and the walk makes it hold, since the rows below an outer row
 * share its keys.  The two key columns, equal since both equal the value,
 * are added to *pairs: PostgreSQL 16 and later drop the ON clause's key
 * equality that the two conditions imply (leaving the constant true).
 */
static bool
implied_by_outer(Expr *clause, CrJoinInfo *outer, CrJoinInfo *inner, List **pairs)
{
	CrLevel		k,
				ok;
	OpExpr	   *op,
			   *oop;
	Var		   *key,
			   *okey;
	Node	   *value,
			   *ovalue;
	ListCell   *lc;

	if (!key_restriction(clause, inner->members, &k, &op, &key, &value) ||
		k > deepest_level(outer))
		return false;
	foreach(lc, outer->quals)
	{
		if (key_restriction(lfirst(lc), outer->members, &ok, &oop, &okey, &ovalue) &&
			ok == k && oop->opno == op->opno && equal(ovalue, value))
		{
			*pairs = lappend(*pairs, list_make4_int(okey->varno, okey->varattno,
													key->varno, key->varattno));
			return true;
		}
	}
	return false;
}

/* Whether a join clause is the constant true (an ON clause the planner emptied). */
static bool
is_const_true(Expr *clause)
{
	return IsA(clause, Const) && !((Const *) clause)->constisnull &&
		((Const *) clause)->consttype == BOOLOID &&
		DatumGetBool(((Const *) clause)->constvalue);
}

/*
 * The checks of a left join: the outer side entirely above the nullable
 * one (call_records alone too: a record's null-extended row comes at the
 * end of its chain, rows.c), the nullable side an inner join without
 * conditions of its own (but those the outer side's imply, whose key
 * columns go to *implied), and the ON clause the keys only (or the
 * constant true that PostgreSQL 16 and later leave of keys the WHERE
 * fixed).  Clauses of the join that filter its result (WHERE clauses that
 * reference both sides) go to *filters.
 */
static bool
left_join_ok(RelOptInfo *joinrel, RelOptInfo *outerrel, RelOptInfo *innerrel,
			 CrJoinInfo *outer, CrJoinInfo *inner,
			 List *members, List *restrictlist, List **filters, List **implied)
{
	ListCell   *lc;

	if (deepest_level(outer) >= shallowest_level(inner) || inner->bounds != NIL)
		return false;
	foreach(lc, inner->quals)
		if (!implied_by_outer(lfirst(lc), outer, inner, implied))
			return false;
	foreach(lc, restrictlist)
	{
		RestrictInfo *ri = lfirst(lc);

		if (RINFO_IS_PUSHED_DOWN(ri, joinrel->relids))
			*filters = lappend(*filters, ri->clause);
		else if (!is_key_equality(ri->clause, members, outerrel->relids, innerrel->relids) &&
				 !is_const_true(ri->clause))
			return false;
	}
	return true;
}

/*
 * Whether the left joins of one side stay below every table of the
 * other, so that an inner join with it keeps one walk: a null-extended
 * row never lacks a table the inner join needs.
 */
static bool
bounds_below(CrJoinInfo *side, CrJoinInfo *other)
{
	ListCell   *lc;

	foreach(lc, side->bounds)
		if ((CrLevel) linitial_int(lfirst(lc)) <= deepest_level(other))
			return false;
	return true;
}

/* Whether an expression reads a whole row or a system column. */
static bool
reads_whole_row(Node *node)
{
	List	   *vars = pull_var_clause(node, PVC_RECURSE_AGGREGATES |
									   PVC_RECURSE_WINDOWFUNCS |
									   PVC_RECURSE_PLACEHOLDERS);
	ListCell   *lc;

	foreach(lc, vars)
		if (((Var *) lfirst(lc))->varattno <= 0)
			return true;
	return false;
}

/* The walk level right below a level of the tree (sessions below a call record). */
static CrLevel
level_below(CrLevel l)
{
	CrLevel		c;

	for (c = CR_LEVEL_SESSION; c <= CR_LEVEL_STREAM; c++)
		if (cr_parent_level(c) == l)
			return c;
	return CR_NO_LEVEL;
}

/*
 * The join state of outer JOIN inner if it is one walk, else NULL (the
 * join keeps the paths of its tables).
 */
static CrJoinInfo *
join_info(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
		  RelOptInfo *innerrel, JoinType jointype, List *restrictlist)
{
	CrJoinInfo *outer = side_info(root, outerrel),
			   *inner = side_info(root, innerrel),
			   *ji;
	List	   *inner_members = NIL;
	List	   *members,
			   *filters = NIL,
			   *implied = NIL,
			   *pairs = NIL;
	CrEqual		eq = {NIL, NIL};
	ListCell   *lc;

	if (outer == NULL || inner == NULL)
		return NULL;

	/*
	 * The members are copied: a left join marks its nullable side's as not
	 * narrowing the requests, which must not change the side's own state.
	 */
	foreach(lc, inner->members)
	{
		CrJoinMember *m = palloc(sizeof(CrJoinMember));

		*m = *(CrJoinMember *) lfirst(lc);
		m->narrows = m->narrows && jointype != JOIN_LEFT;
		inner_members = lappend(inner_members, m);
	}
	inner = memcpy(palloc(sizeof(CrJoinInfo)), inner, sizeof(CrJoinInfo));
	inner->members = inner_members;
	if ((members = merged_members(outer, inner)) == NIL)
		return NULL;
	foreach(lc, restrictlist)
		if (((RestrictInfo *) lfirst(lc))->pseudoconstant)
			return NULL;
	if (jointype == JOIN_LEFT)
	{
		if (!left_join_ok(joinrel, outerrel, innerrel, outer, inner, members,
						  restrictlist, &filters, &implied))
			return NULL;
		collect_equalities(root, &eq, list_make3(outer->equal, inner->equal, implied),
						   extract_actual_clauses(restrictlist, false));
	}
	else
	{
		if (!bounds_below(outer, inner) || !bounds_below(inner, outer))
			return NULL;
		filters = extract_actual_clauses(restrictlist, false);
		collect_equalities(root, &eq, list_make2(outer->equal, inner->equal), filters);
	}
	if (!keys_join_tree(&eq, members, &pairs))
		return NULL;

	ji = palloc0(sizeof(CrJoinInfo));
	ji->members = members;
	ji->equal = pairs;
	ji->quals = list_concat(list_copy(outer->quals), filters);
	ji->bounds = list_concat(list_copy(outer->bounds), inner->bounds);
	if (jointype == JOIN_LEFT)
	{
		/* participants are walked right below their call record */
		CrLevel		start = shallowest_level(inner) == CR_LEVEL_PARTICIPANT ?
			CR_LEVEL_PARTICIPANT : level_below(deepest_level(outer));

		ji->bounds = lappend(ji->bounds, list_make2_int(start, deepest_level(inner)));
	}
	else
		ji->quals = list_concat(ji->quals, inner->quals);
	ji->relations = psprintf("(%s) %s JOIN (%s)", outer->relations,
							 jointype == JOIN_LEFT ? "LEFT" : "INNER", inner->relations);
	return ji;
}

/*
 * The fetch of a pushed join: the deepest table's requests, narrowed by
 * the pushed values of every table whose rows all appear in the join.
 * The ids of one table only: the tables' keys are equal, so any one
 * table's ids name every record the join can return (the chains take the
 * union of what they are given).  Time bounds of several tables are all
 * kept (they intersect), but at most one table's OR of time ranges, as
 * arms.  A value not kept stays a local condition, as every one does.
 */
static CrRelInfo *
join_fetch(PlannerInfo *root, RelOptInfo *joinrel, CrJoinInfo *ji)
{
	CrJoinMember *deepest = llast(ji->members);
	CrRelInfo  *f = palloc(sizeof(CrRelInfo));
	bool		keyed = false;
	ListCell   *lc;

	*f = *deepest->info;
	f->exprs = NIL;
	f->roles = NIL;
	f->time_arms = 0;
	f->time_unpushed = false;
	f->page_size_hint = 0;
	foreach(lc, ji->members)
	{
		CrJoinMember *m = lfirst(lc);
		bool		take_arms = m->narrows && f->time_arms == 0 && m->info->time_arms > 0;
		bool		take_keys = !keyed;
		ListCell   *le,
				   *lr;

		if (!m->narrows)
			continue;
		forboth(le, m->info->exprs, lr, m->info->roles)
		{
			int			r = lfirst_int(lr);
			bool		key = CR_ROLE_BASE(r) == CR_QUAL_KEY || CR_ROLE_BASE(r) == CR_QUAL_KEY_ARRAY;

			if ((CR_ROLE_ARM(r) != 0 && !take_arms) || (key && !take_keys))
				continue;
			keyed |= key;
			f->exprs = lappend(f->exprs, lfirst(le));
			f->roles = lappend_int(f->roles, r);
		}
		if (take_arms)
			f->time_arms = m->info->time_arms;
	}
	cr_estimate_fetch(root, f, joinrel);
	return f;
}

/*
 * GetForeignJoinPaths: one path for a join of the server's tree tables on
 * their keys, costed by its requests, which are those of its deepest
 * table alone.  The first split of the join rel that can be pushed
 * decides; later ones return at once, as postgres_fdw does.
 */
void
cr_get_foreign_join_paths(PlannerInfo *root, RelOptInfo *joinrel,
						  RelOptInfo *outerrel, RelOptInfo *innerrel,
						  JoinType jointype, JoinPathExtraData *extra)
{
	CrJoinInfo *ji;
	CrRelInfo  *fetch;
	ListCell   *lc;
	Cost		startup,
				total;

	if (joinrel->fdw_private != NULL || !cr_enable_pushdown || !cr_enable_join_pushdown ||
		(jointype != JOIN_INNER && jointype != JOIN_LEFT) ||
		root->parse->commandType != CMD_SELECT || root->rowMarks != NIL ||
		!bms_is_empty(joinrel->lateral_relids) ||
		reads_whole_row((Node *) joinrel->reltarget->exprs))
		return;
	ji = join_info(root, joinrel, outerrel, innerrel, jointype, extra->restrictlist);
	if (ji == NULL || reads_whole_row((Node *) ji->quals))
		return;
	foreach(lc, ji->members)
		if (((CrJoinMember *) lfirst(lc))->info->res->beta_only)
			return;
	fetch = join_fetch(root, joinrel, ji);
	ji->fetch = fetch;
	joinrel->fdw_private = ji;
	startup = CR_REQUEST_COST;
	total = fetch->requests * CR_REQUEST_COST +
		joinrel->rows * (cpu_tuple_cost + cpu_operator_cost * list_length(ji->quals));
	add_path(joinrel, (Path *)
			 cr_create_foreign_join_path(root, joinrel, NULL, joinrel->rows,
										 startup, total, NIL,
										 joinrel->lateral_relids, NULL, NIL));
}

/*
 * The scan's target list: every column the join's output and its local
 * conditions read, as postgres_fdw builds it.  The scan fills each entry
 * from the table and column of its Var, and names it after the column
 * for messages.
 */
static List *
join_scan_tlist(PlannerInfo *root, RelOptInfo *joinrel, CrJoinInfo *ji)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	tlist = add_to_flat_tlist(tlist, pull_var_clause((Node *) joinrel->reltarget->exprs,
													 PVC_RECURSE_PLACEHOLDERS));
	tlist = add_to_flat_tlist(tlist, pull_var_clause((Node *) ji->quals,
													 PVC_RECURSE_PLACEHOLDERS));
	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst(lc);
		Var		   *v = (Var *) tle->expr;

		tle->resname = get_attname(planner_rt_fetch(v->varno, root)->relid,
								   v->varattno, false);
	}
	return tlist;
}

/*
 * The plan of a pushed join: the joined rows come from one scan with no
 * relation of its own (scanrelid 0) whose tuple is fdw_scan_tlist; the
 * join's and the tables' conditions are its qual, rechecked on each
 * joined row; fdw_private names the tables in level order and the levels
 * where left joins null-extend.
 */
static ForeignScan *
join_plan(PlannerInfo *root, RelOptInfo *joinrel, ForeignPath *best_path,
		  List *tlist, Plan *outer_plan)
{
	CrJoinInfo *ji = joinrel->fdw_private;
	CrRelInfo  *fetch = ji->fetch;
	CrScanPlan	plan = {0};
	ListCell   *lc;

	plan.roles = list_copy(fetch->roles);
	plan.expand_segments = fetch->expand_segments;
	plan.share_responses = cr_statement_shares(root, joinrel->serverid, list_length(ji->members));
	plan.limited = root->limit_tuples > 0;
	plan.outer_value = -1;
	foreach(lc, ji->members)
		plan.join_tables = lappend_oid(plan.join_tables, ((CrJoinMember *) lfirst(lc))->tableid);
	foreach(lc, ji->bounds)
		plan.join_bounds = list_concat(plan.join_bounds, list_copy(lfirst(lc)));
	plan.relations = ji->relations;
	plan.requests = fetch->requests;
	return make_foreignscan(tlist, list_copy(ji->quals), 0,
							list_copy(fetch->exprs), cr_scan_plan_write(&plan),
							join_scan_tlist(root, joinrel, ji), NIL, outer_plan);
}

/*
 * GetForeignPlan for every rel the wrapper planned: a pushed join here,
 * a table in plan.c.
 */
ForeignScan *
cr_get_foreign_plan_any(PlannerInfo *root, RelOptInfo *rel,
						Oid foreigntableid, ForeignPath *best_path,
						List *tlist, List *scan_clauses, Plan *outer_plan)
{
	if (IS_JOIN_REL(rel))
		return join_plan(root, rel, best_path, tlist, outer_plan);
	return cr_get_foreign_plan(root, rel, foreigntableid, best_path, tlist,
							   scan_clauses, outer_plan);
}
