/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  Turning JSON values of a Graph response into column Datums.
 *
 * Conversion goes by the type the user declared for the column, not by
 * the Graph type: a column may be declared text, numeric or jsonb where the
 * catalogue suggests something else.  What never happens is a silent
 * change of meaning: a JSON string where a number column is declared, or
 * a number that does not fit, is an error (the scan's error context names
 * the table, column and call record).
 *
 * Every byte as Graph sent it: numbers keep the text Graph wrote (prune.c
 * hands them over as NUL-marked strings, cr_json_number() reads them back),
 * so jsonb and numeric columns hold 0.07 and 0.00, not the nearest double;
 * text, text[] and jsonb values are converted from UTF-8 (what Graph
 * sends) to the database encoding, and a character the database cannot
 * hold is an error, never mojibake; a time must be UTC as Graph writes it
 * (yyyy-mm-ddThh:mm[:ss[.f]]Z), never a zone-less time read in the
 * session's zone, "now" or "epoch".
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/convert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "cr_json.h"

/* How a column's value is built; the common types skip the input function. */
typedef enum CrConvKind
{
	CR_CONV_TEXT,
	CR_CONV_INT4,
	CR_CONV_INT8,
	CR_CONV_FLOAT8,
	CR_CONV_BOOL,
	CR_CONV_JSON,				/* json or jsonb: the JSON text itself */
	CR_CONV_ARRAY,				/* a JSON array into a PostgreSQL array */
	CR_CONV_INPUT				/* any other type: its input function */
} CrConvKind;

struct CrColumnConv
{
	CrConvKind	kind;
	char		category;		/* typcategory of the declared type */
	bool		is_interval;
	bool		strip_odata_ns; /* "@odata.type" value: drop the namespace */
	bool		null_sentinel;	/* a DateTimeOffset: 0001-01-01 means none */
	Oid			typid;
	int32		typmod;
	FmgrInfo	input;			/* for CR_CONV_INPUT/JSON, or array elements */
	Oid			ioparam;
	/* arrays only */
	Oid			elemtype;
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	char		elemcategory;
};

CrColumnConv *
cr_make_column_conv(Form_pg_attribute attr, const CrColumnDef *def)
{
	CrColumnConv *conv = palloc0(sizeof(CrColumnConv));
	Oid			basetype = getBaseType(attr->atttypid);
	bool		preferred;
	Oid			infunc;

	conv->typid = attr->atttypid;
	conv->typmod = attr->atttypmod;
	conv->strip_odata_ns = def && def->type == CR_GT_ODATA_TYPE;
	conv->null_sentinel = def && def->type == CR_GT_DATETIME;
	get_type_category_preferred(basetype, &conv->category, &preferred);
	conv->is_interval = (basetype == INTERVALOID);

	getTypeInputInfo(attr->atttypid, &infunc, &conv->ioparam);
	fmgr_info(infunc, &conv->input);

	/* domains go through their input function, which checks constraints */
	if (basetype != attr->atttypid)
		conv->kind = CR_CONV_INPUT;
	else if (basetype == TEXTOID)
		conv->kind = CR_CONV_TEXT;
	else if (basetype == INT4OID)
		conv->kind = CR_CONV_INT4;
	else if (basetype == INT8OID)
		conv->kind = CR_CONV_INT8;
	else if (basetype == FLOAT8OID)
		conv->kind = CR_CONV_FLOAT8;
	else if (basetype == BOOLOID)
		conv->kind = CR_CONV_BOOL;
	else if (basetype == JSONBOID || basetype == JSONOID)
		conv->kind = CR_CONV_JSON;
	else if (OidIsValid(get_element_type(basetype)))
	{
		bool		elempref;
		Oid			elemin;

		conv->kind = CR_CONV_ARRAY;
		conv->elemtype = get_element_type(basetype);
		get_typlenbyvalalign(conv->elemtype, &conv->elemlen,
							 &conv->elembyval, &conv->elemalign);
		get_type_category_preferred(conv->elemtype, &conv->elemcategory, &elempref);
		getTypeInputInfo(conv->elemtype, &elemin, &conv->ioparam);
		fmgr_info(elemin, &conv->input);
	}
	else
		conv->kind = CR_CONV_INPUT;
	return conv;
}

/*
 * Follow a dotted Graph property path from an object.  A component that
 * starts with "@" ("@odata.type") is the rest of the path as one key.
 * Returns NULL when any step is missing or not an object.
 */
json_t *
cr_json_at_path(json_t *obj, const char *path)
{
	char		key[256];

	while (obj != NULL && path != NULL && *path)
	{
		const char *dot = (*path == '@') ? NULL : strchr(path, '.');
		size_t		len = dot ? (size_t) (dot - path) : strlen(path);

		if (!json_is_object(obj) || len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		obj = json_object_get(obj, key);
		path = dot ? dot + 1 : NULL;
	}
	return obj;
}

/*
 * The text of a JSON number: as Graph wrote it when prune.c marked it (a
 * string of a NUL and the text), else as jansson holds it (a page that
 * was parsed as it came).  NULL when v is no number.
 */
static const char *
cr_json_number(json_t *v, char *buf)
{
	if (json_is_string(v) && json_string_length(v) > 1 && json_string_value(v)[0] == '\0')
		return json_string_value(v) + 1;
	if (json_is_integer(v))
	{
		snprintf(buf, 64, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v))
	{
		double_to_shortest_decimal_buf(json_real_value(v), buf);
		return buf;
	}
	return NULL;
}

/* Whether number text is an integer (no fraction, no exponent). */
static bool
integer_text(const char *num)
{
	return strpbrk(num, ".eE") == NULL;
}

/* The value of a JSON string, NULL for anything else (a marked number too). */
const char *
cr_json_string(json_t *v)
{
	const char *s = json_string_value(v);

	return (s != NULL && s[0] != '\0') ? s : NULL;
}

/* Text Graph sent (UTF-8) in the database encoding; an error if it cannot be. */
static char *
server_text(const char *s, size_t len)
{
	return pg_any_to_server(s, (int) len, PG_UTF8);
}

static const char *
json_kind_name(json_t *v)
{
	char		buf[64];

	if (cr_json_number(v, buf))
		return "a number";
	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			return "an object";
		case JSON_ARRAY:
			return "an array";
		case JSON_STRING:
			return "a string";
		case JSON_INTEGER:
		case JSON_REAL:
			return "a number";
		case JSON_TRUE:
		case JSON_FALSE:
			return "a boolean";
		case JSON_NULL:
			return "null";
	}
	return "a JSON value";
}

static void
mismatch(CrColumnConv *conv, json_t *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("Graph value is %s, which does not convert to type %s",
					json_kind_name(v), format_type_with_typemod(conv->typid, conv->typmod))));
}

/*
 * Append the JSON text of a value: members in Graph's order, strings
 * escaped as JSON needs, numbers as Graph wrote them.
 */
static void
append_json(StringInfo buf, json_t *v)
{
	char		numbuf[64];
	const char *num = cr_json_number(v, numbuf);
	const char *key;
	json_t	   *member;
	size_t		i;

	check_stack_depth();
	if (num)
	{
		appendStringInfoString(buf, num);
		return;
	}
	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			appendStringInfoChar(buf, '{');
			i = 0;
			json_object_foreach(v, key, member)
			{
				if (i++ > 0)
					appendStringInfoChar(buf, ',');
				escape_json(buf, key);
				appendStringInfoChar(buf, ':');
				append_json(buf, member);
			}
			appendStringInfoChar(buf, '}');
			break;
		case JSON_ARRAY:
			appendStringInfoChar(buf, '[');
			json_array_foreach(v, i, member)
			{
				if (i > 0)
					appendStringInfoChar(buf, ',');
				append_json(buf, member);
			}
			appendStringInfoChar(buf, ']');
			break;
		case JSON_STRING:
			escape_json(buf, json_string_value(v));
			break;
		default:
			appendStringInfoString(buf, json_is_true(v) ? "true" :
								   json_is_false(v) ? "false" : "null");
			break;
	}
}

/*
 * The JSON text of a value (objects, arrays, or a scalar for jsonb), in
 * the database encoding.
 */
static char *
json_text(json_t *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_json(&buf, v);
	return server_text(buf.data, buf.len);
}

/*
 * Refuse a time that is not UTC as Graph writes it: yyyy-mm-ddThh:mm,
 * optional seconds and fraction, then Z.  PostgreSQL's input would read a
 * zone-less time in the session's zone and take "now" or "epoch" as
 * times; Graph never sends them, so such a value is a fault, not a time.
 */
static void
check_graph_time(const char *s)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd";
	size_t		len = strlen(s);
	size_t		i;
	bool		ok = len > sizeof(pattern) - 1 && s[len - 1] == 'Z';

	for (i = 0; ok && i < sizeof(pattern) - 1; i++)
		ok = pattern[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == pattern[i];
	for (i = sizeof(pattern) - 1; ok && i < len - 1; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || s[i] == ':' || s[i] == '.';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("Graph time \"%s\" is not a UTC time", s),
				 errdetail("Graph sends times as yyyy-mm-ddThh:mm:ss.fffffffZ.")));
}

/*
 * An xsd:duration with a leading minus ("-PT0.5S"), which interval_in
 * rejects, becomes "PT-0.5S" with every component negated.
 */
static char *
normalize_duration(const char *s)
{
	StringInfoData buf;
	bool		at_number_start = true;

	if (s[0] != '-' || s[1] != 'P')
		return (char *) s;
	initStringInfo(&buf);
	for (s = s + 1; *s; s++)
	{
		bool		digit = (*s >= '0' && *s <= '9') || *s == '.';

		if (digit && at_number_start)
			appendStringInfoChar(&buf, '-');
		appendStringInfoChar(&buf, *s);
		at_number_start = !digit;
	}
	return buf.data;
}

/*
 * The text of a JSON scalar as the input function of the declared type
 * sees it.  Numbers keep their shortest round-trip form.  A JSON kind that
 * would change meaning on the way (a number read as a duration in
 * seconds, a string as a number) is refused.
 */
static char *
scalar_text(CrColumnConv *conv, json_t *v, char category)
{
	char		numbuf[64];
	const char *num = cr_json_number(v, numbuf);

	if (num)
	{
		if (category == TYPCATEGORY_BOOLEAN || category == TYPCATEGORY_DATETIME ||
			category == TYPCATEGORY_TIMESPAN)
			mismatch(conv, v);
		return pstrdup(num);
	}
	switch (json_typeof(v))
	{
		case JSON_STRING:
			{
				const char *s = json_string_value(v);

				if (conv->strip_odata_ns && s[0] == '#' && strrchr(s, '.'))
					s = strrchr(s, '.') + 1;
				if (category == TYPCATEGORY_NUMERIC || category == TYPCATEGORY_BOOLEAN)
					mismatch(conv, v);
				if (category == TYPCATEGORY_DATETIME)
					check_graph_time(s);
				return server_text(s, strlen(s));
			}
		case JSON_TRUE:
		case JSON_FALSE:
			if (category == TYPCATEGORY_NUMERIC || category == TYPCATEGORY_DATETIME ||
				category == TYPCATEGORY_TIMESPAN)
				mismatch(conv, v);
			return json_is_true(v) ? "true" : "false";
		default:
			/* objects and arrays convert only to text (as JSON) */
			if (category != TYPCATEGORY_STRING)
				mismatch(conv, v);
			return json_text(v);
	}
}

static Datum
convert_array(CrColumnConv *conv, json_t *v)
{
	size_t		n,
				i;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};

	if (!json_is_array(v))
		mismatch(conv, v);
	n = json_array_size(v);
	elems = palloc0(sizeof(Datum) * Max(n, 1));
	nulls = palloc0(sizeof(bool) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		json_t	   *e = json_array_get(v, i);

		if (json_is_null(e))
			nulls[i] = true;
		else
			elems[i] = InputFunctionCall(&conv->input,
										 scalar_text(conv, e, conv->elemcategory),
										 conv->ioparam, conv->typmod);
	}
	dims[0] = n;
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  conv->elemtype, conv->elemlen,
											  conv->elembyval, conv->elemalign));
}

/*
 * The Datum for one JSON value.  A missing key (value NULL) and JSON null
 * are both SQL NULL.
 */
Datum
cr_convert_value(CrColumnConv *conv, json_t *v, bool *isnull)
{
	char	   *s;

	char		numbuf[64];
	const char *num;

	*isnull = (v == NULL || json_is_null(v));
	/* Graph's documented "no value" for a DateTimeOffset */
	if (!*isnull && conv->null_sentinel && cr_json_string(v) &&
		strncmp(json_string_value(v), "0001-01-01T00:00:00", 19) == 0)
		*isnull = true;
	if (*isnull)
		return (Datum) 0;

	num = cr_json_number(v, numbuf);
	switch (conv->kind)
	{
		case CR_CONV_INT4:
			if (num && integer_text(num))
			{
				int64		i = strtoi64(num, NULL, 10);	/* checked: fits 64 bits */

				if (i < PG_INT32_MIN || i > PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("value %s is out of range for type integer", num)));
				return Int32GetDatum((int32) i);
			}
			break;
		case CR_CONV_INT8:
			if (num && integer_text(num))
				return Int64GetDatum(strtoi64(num, NULL, 10));
			break;
		case CR_CONV_FLOAT8:
			if (num)
				return Float8GetDatum(strtod(num, NULL));	/* checked: in range */
			mismatch(conv, v);
			break;
		case CR_CONV_BOOL:
			if (json_is_boolean(v))
				return BoolGetDatum(json_is_true(v));
			mismatch(conv, v);
			break;
		case CR_CONV_TEXT:
			return CStringGetTextDatum(scalar_text(conv, v, TYPCATEGORY_STRING));
		case CR_CONV_JSON:
			return InputFunctionCall(&conv->input, json_text(v),
									 conv->ioparam, conv->typmod);
		case CR_CONV_ARRAY:
			return convert_array(conv, v);
		case CR_CONV_INPUT:
			break;
	}

	/* everything else goes through the declared type's input function */
	s = scalar_text(conv, v, conv->category);
	if (conv->is_interval)
		s = normalize_duration(s);
	return InputFunctionCall(&conv->input, s, conv->ioparam, conv->typmod);
}

/* A position (1-based index) column in whatever integer-ish type declared. */
Datum
cr_convert_position(CrColumnConv *conv, int64 pos)
{
	char		buf[32];

	if (conv->kind == CR_CONV_INT4 && pos <= PG_INT32_MAX)
		return Int32GetDatum((int32) pos);
	if (conv->kind == CR_CONV_INT8)
		return Int64GetDatum(pos);
	snprintf(buf, sizeof(buf), INT64_FORMAT, pos);
	if (conv->kind == CR_CONV_TEXT)
		return CStringGetTextDatum(buf);
	if (conv->kind == CR_CONV_ARRAY || conv->kind == CR_CONV_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("a position column cannot be of type %s",
						format_type_with_typemod(conv->typid, conv->typmod))));
	return InputFunctionCall(&conv->input, buf, conv->ioparam, conv->typmod);
}

/* A timestamp the scan knows (a window bound) in the declared type. */
Datum
cr_convert_timestamp(CrColumnConv *conv, TimestampTz t)
{
	if (conv->typid == TIMESTAMPTZOID)
		return TimestampTzGetDatum(t);
	return InputFunctionCall(&conv->input,
							 DatumGetCString(DirectFunctionCall1(timestamptz_out,
																 TimestampTzGetDatum(t))),
							 conv->ioparam, conv->typmod);
}
