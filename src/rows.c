/*-------------------------------------------------------------------------
 *
 * rows.c
 *		  Walking a page's tree into rows: from the objects the page lists
 *		  down to the table's level, depth first, and filling a slot from
 *		  the objects the cursor is on.
 *
 * The cursor holds, per level, the array walked, the position in it and
 * the object there.  They point into the page's arena, so they are
 * forgotten before the page is dropped.  Positions on the first level
 * count on across the pages of a chain.
 *
 * Rows are made from the page handed down: scan.c asks fetch.c for the
 * next page when the cursor has used one up, and gives it to
 * cr_take_page; nothing here fetches.
 *
 * Rules kept here: a page that holds something else where an array or an
 * object belongs is an error, never a table that is silently empty; "raw"
 * and the call record kept for the key columns leave out the child
 * collections and the "@odata.context" annotation, which describe the
 * response rather than the object.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "executor/executor.h"
#include "scan_int.h"

/*
 * Count the rows of the current page into page_base and forget the
 * cursor's pointers into it, before the page is released.
 */
void
cr_leave_page(CrScanState *st)
{
	if (st->arr[st->levels[0]])
		st->page_base += json_array_size(st->arr[st->levels[0]]);
	memset(st->arr, 0, sizeof(st->arr));
	memset(st->obj, 0, sizeof(st->obj));
}

/* What a page lists, for messages: "sessions", "participants_v2", "rows". */
static const char *
page_rows_name(CrScanState *st)
{
	const char *key = cr_child_key(st->levels[0]);

	return (key && st->res->fetch == CR_FETCH_RECORD_CHILDREN) ? key : "rows";
}

/* Make rows the array of row objects of the page just fetched. */
static void
set_rows(CrScanState *st, json_t *rows)
{
	CrLevel		l = st->levels[0];

	if (rows != NULL && !json_is_null(rows) && !json_is_array(rows))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of %s", page_rows_name(st))));
	st->arr[l] = json_is_array(rows) ? rows : NULL;
	st->pos[l] = -1;
}

/* The rows of a collection page: its "value", which must be an array. */
static void
set_collection_rows(CrScanState *st)
{
	json_t	   *value = json_object_get(st->page, "value");

	if (value == NULL || !json_is_array(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph page holds no array of %s", page_rows_name(st))));
	set_rows(st, value);
}

/*
 * The page fetch.c just read into st->page, as rows: a call record's
 * expanded children (the record itself kept, without them, for the key
 * columns of the chain's every page), one object (the row), or a
 * collection's "value".  Positions count on across a chain's pages.
 */
void
cr_take_page(CrScanState *st)
{
	if (st->page_starts_chain)
	{
		st->page_base = 0;
		st->matched[0] = !st->bound_start[0];	/* no row of the record yet */
		if (st->record)
			json_decref(st->record);
		st->record = NULL;
	}
	switch (st->page_kind)
	{
		case CR_FIRST_EXPANDED_RECORD:
			st->record = cr_without_children(st->page, CR_LEVEL_RECORD, true);
			if (!json_is_string(json_object_get(st->record, "id")))
				json_object_set_new(st->record, "id", json_string(st->chain->record_id));
			set_rows(st, json_object_get(st->page, cr_child_key(st->levels[0])));
			break;
		case CR_FIRST_SINGLE:
			{
				/* the page becomes a one-element array holding the object */
				CrAllocFuncs saved;
				json_t	   *one;

				cr_arena_enter(&st->arena, &saved);
				one = json_array();
				if (one != NULL && json_array_append(one, st->page) != 0)
					one = NULL;
				cr_arena_leave(&saved);
				if (one == NULL)
					ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
				st->page = one;
				set_rows(st, one);
				break;
			}
		case CR_FIRST_COLLECTION:
			set_collection_rows(st);
			break;
	}
}

/*
 * Whether a key of an object at level holds or annotates one of its child
 * collections, or is an "@odata.context" annotation, which describes the
 * response (and names the host it came from) rather than the object.
 */
static bool
is_response_key(const char *key, CrLevel level)
{
	size_t		len = strlen(key);
	CrLevel		l;

	if (len >= 14 && strcmp(key + len - 14, "@odata.context") == 0)
		return true;
	for (l = 0; l < CR_NUM_LEVELS; l++)
	{
		const char *child = cr_child_key(l);
		size_t		clen;

		if (cr_parent_level(l) != level || child == NULL)
			continue;
		clen = strlen(child);
		if (strncmp(key, child, clen) == 0 &&
			(key[clen] == '\0' || strcmp(key + clen, "@odata.nextLink") == 0))
			return true;
	}
	return false;
}

/*
 * An object's own properties, without its child collections and response
 * annotations.  A deep copy outlives the page (whose arena it does not
 * point into); a shallow one shares the values and must be released
 * before the page is.
 */
json_t *
cr_without_children(json_t *obj, CrLevel level, bool deep)
{
	/* json_copy, not json_object(): that name is PostgreSQL's at run time */
	json_t	   *copy = json_copy(obj);
	const char *key;
	json_t	   *value;
	void	   *tmp;

	if (copy == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	json_object_foreach_safe(copy, tmp, key, value)
	{
		if (is_response_key(key, level))
			json_object_del(copy, key);
		else if (deep && json_object_set_new(copy, key, json_deep_copy(value)) != 0)
		{
			json_decref(copy);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
	}
	return copy;
}

/*
 * Move the cursor to the next object at depth d of the walk, moving the
 * levels above when this one's array is used up.  Depth-first, so rows
 * come in the order Graph lists them.  False when the page is used up
 * (scan.c then hands the next one down).
 *
 * A pushed join's left join (scan.c's set_bounds) adds one rule: when the
 * array at the depth where its nullable side begins is used up and the
 * object above had no row of that side, the cursor stops once more there
 * with null_from set, for the null-extended row; the depths below it are
 * then empty, so the walk goes on above.  At depth 0 (a call record's
 * sessions or participants) the object above is the chain's call record,
 * whose rows may come on any of its pages: its null-extended row comes
 * after the last page (no next link), if none of them had a row.
 */
bool
cr_next_at(CrScanState *st, int d)
{
	CrLevel		level = st->levels[d];

	for (;;)
	{
		json_t	   *arr = st->arr[level];

		if (arr != NULL && ++st->pos[level] < (int64) json_array_size(arr))
		{
			json_t	   *o = json_array_get(arr, st->pos[level]);

			if (!json_is_object(o))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("Graph array of %s holds a non-object",
								cr_child_key(level) ? cr_child_key(level) : "rows")));
			st->obj[level] = o;
			if (st->bound_of_end[d] >= 0)
				st->matched[st->bound_of_end[d]] = true;
			return true;
		}
		if (st->bound_start[d] && !st->matched[d] && (d > 0 || st->next_link == NULL))
		{
			st->matched[d] = true;
			st->null_from = d;
			return true;
		}

		if (d == 0)
			return false;		/* the page is used up: scan.c brings the next */
		if (!cr_next_at(st, d - 1))
			return false;
		if (st->null_from >= 0)
		{
			/* a null-extended row above: nothing below it */
			st->arr[level] = NULL;
			st->pos[level] = -1;
			st->matched[d] = true;
			return true;
		}

		arr = json_object_get(st->obj[st->levels[d - 1]], cr_child_key(level));
		if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("Graph property \"%s\" is not an array", cr_child_key(level))));
		st->arr[level] = json_is_array(arr) ? arr : NULL;
		st->pos[level] = -1;
		st->matched[d] = false;
	}
}

/* Move the cursor to the next row: an object at the deepest level, or a null-extended row. */
bool
cr_next_row(CrScanState *st)
{
	st->null_from = -1;
	return cr_next_at(st, st->nlevels - 1);
}

/* The object a column of the given level reads, or NULL where the row is null-extended. */
static json_t *
level_object(CrScanState *st, CrLevel level)
{
	if (level == CR_LEVEL_RECORD && st->res->level != CR_LEVEL_RECORD)
		return st->record;
	if (st->null_from >= 0 && st->depth_of[level] >= st->null_from)
		return NULL;
	return st->obj[level];
}

/* The value of one column for the row the cursor is on. */
static Datum
column_value(CrScanState *st, int i, bool *isnull)
{
	const CrColumnDef *def = st->defs[i];
	CrColumnConv *conv = st->convs[i];
	json_t	   *base;

	*isnull = false;
	base = level_object(st, def->level);
	if (base == NULL && def->type != CR_GT_WINDOW_FROM && def->type != CR_GT_WINDOW_TO)
	{
		*isnull = true;
		return (Datum) 0;
	}
	switch (def->type)
	{
		case CR_GT_POSITION:
			return cr_convert_position(conv, st->pos[def->level] + 1 +
									   (def->level == st->levels[0] ? st->page_base : 0));
		case CR_GT_WINDOW_FROM:
			return cr_convert_timestamp(conv, st->chain->window_from);
		case CR_GT_WINDOW_TO:
			return cr_convert_timestamp(conv, st->chain->window_to);
		case CR_GT_RAW:
			{
				json_t	   *copy = cr_without_children(base, def->level, false);
				Datum		d;

				PG_TRY();
				{
					d = cr_convert_value(conv, copy, isnull);
				}
				PG_FINALLY();
				{
					json_decref(copy);
				}
				PG_END_TRY();
				return d;
			}
		default:
			break;
	}
	return cr_convert_value(conv, cr_json_at_path(base, def->path), isnull);
}

/* Fill the slot from the objects the cursor is on. */
void
cr_store_row(CrScanState *st, TupleTableSlot *slot)
{
	int			natts = slot->tts_tupleDescriptor->natts;
	int			i;

	for (i = 0; i < natts; i++)
	{
		slot->tts_isnull[i] = true;
		if (st->defs[i] == NULL)
			continue;
		st->cur_attr = i;
		slot->tts_values[i] = column_value(st, i, &slot->tts_isnull[i]);
	}
	st->cur_attr = -1;
	ExecStoreVirtualTuple(slot);
}
