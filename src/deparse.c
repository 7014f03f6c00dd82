/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		  Building Graph request paths: the only file that knows OData
 *		  syntax; and the URL checks next links pass (same origin).
 *
 * The same functions serve execution (with values) and EXPLAIN (with the
 * text of parameters and expressions in their place), so what EXPLAIN
 * shows is what the scan sends.  Paths are relative to graph_url; neither
 * a host nor a token ever appears in them.
 *
 * What the database holds (a query's values, options) is sent in UTF-8,
 * whatever the database's encoding (cr_url_escape); ids read from Graph's
 * pages are UTF-8 already (cr_url_escape_utf8).
 *
 * Query strings keep "$", "(", ")", "=" and "," literal and encode spaces
 * as %20: Graph's OData parser rejects "+" for a space.  Next links are
 * followed as Graph wrote them, never rebuilt here: their form differs
 * between endpoints and API versions (skip tokens, $skip, other parameter
 * names).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/deparse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "cr_common.h"
#include "cr_url.h"

#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/*
 * The $expand of the first request for a resource fetched per call record;
 * sessions come without their segments unless segments is set.
 */
static const char *
record_expand(const CrResource *res, bool segments)
{
	switch (res->level)
	{
		case CR_LEVEL_PARTICIPANT:
			return "participants_v2";
		case CR_LEVEL_SESSION:
			return segments ? "sessions($expand=segments)" : "sessions";
		case CR_LEVEL_SEGMENT:
		case CR_LEVEL_MEDIA:
		case CR_LEVEL_STREAM:
			return "sessions($expand=segments)";
		default:
			return NULL;
	}
}

/*
 * GET one call record: with the expansion of its children for the child
 * tables, alone (and with the $select, if any) for call_records.  id_text
 * is already escaped (or a placeholder).
 */
char *
cr_record_path(const CrOptions *opts, const CrResource *res, const char *id_text,
			   const char *select, bool segments)
{
	const char *expand = record_expand(res, segments);

	if (expand)
		return psprintf("/%s/communications/callRecords/%s?$expand=%s",
						opts->api_version, id_text, expand);
	return psprintf("/%s/communications/callRecords/%s%s%s",
					opts->api_version, id_text,
					select ? "?$select=" : "", select ? select : "");
}

/*
 * The call record list, with a $filter of the given terms joined by
 * "and", and a $select (NULL for every property).
 */
char *
cr_list_path(const CrOptions *opts, List *filters, const char *select)
{
	StringInfoData buf;
	ListCell   *lc;
	char		sep = '?';

	initStringInfo(&buf);
	appendStringInfo(&buf, "/%s/communications/callRecords", opts->api_version);
	foreach(lc, filters)
	{
		appendStringInfoString(&buf, foreach_current_index(lc) == 0 ? "?$filter=" : "%20and%20");
		appendStringInfoString(&buf, (char *) lfirst(lc));
		sep = '&';
	}
	if (select)
		appendStringInfo(&buf, "%c$select=%s", sep, select);
	return buf.data;
}

/* A startDateTime comparison of a $filter, e.g. "startDateTime%20ge%20…". */
char *
cr_filter_term(CrQualRole role, const char *literal)
{
	const char *op = role == CR_QUAL_TIME_GE ? "ge" : role == CR_QUAL_TIME_GT ? "gt" :
		role == CR_QUAL_TIME_LE ? "le" : "lt";

	return psprintf("startDateTime%%20%s%%20%s", op, literal);
}

/*
 * The participant filter of the call record list.  literal is an OData
 * string literal, quoted and escaped (cr_odata_string), or a placeholder.
 */
char *
cr_participant_term(const char *literal)
{
	return psprintf("participants_v2/any(p:p/id%%20eq%%20%s)", literal);
}

/* An OData string literal: quotes doubled, percent-encoded, quoted. */
char *
cr_odata_string(const char *value)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = value; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoChar(&buf, '\'');
		appendStringInfoChar(&buf, *p);
	}
	return psprintf("'%s'", cr_url_escape(buf.data));
}

/* A call of a log function over [from, to]. */
char *
cr_function_path(const CrOptions *opts, const CrResource *res,
				 const char *from_text, const char *to_text)
{
	return psprintf("/%s/communications/callRecords/%s(fromDateTime=%s,toDateTime=%s)",
					opts->api_version, res->function, from_text, to_text);
}

/*
 * An Edm.DateTimeOffset literal in UTC: "2026-11-01T09:15:21Z", with
 * microseconds when there are any.  minus_tick gives the last 100 ns tick
 * before the time instead ("…:59.9999999Z"), the inclusive end of a window
 * that must not overlap the next one.
 */
char *
cr_odata_timestamp(TimestampTz t, bool minus_tick)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		frac[16] = "";

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("an infinite timestamp cannot be sent to Graph")));
	if (minus_tick)
		t -= 1;					/* one microsecond; nine ticks added below */
	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (minus_tick)
		snprintf(frac, sizeof(frac), ".%06d9", (int) fsec);
	else if (fsec != 0)
		snprintf(frac, sizeof(frac), ".%06d", (int) fsec);
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/*
 * A string of the database (a query's value, an option) as Graph reads
 * it: URLs, filters and form bodies are UTF-8 whatever the database's
 * encoding, and an id sent in LATIN1 bytes names no record.
 */
char *
cr_server_to_utf8(const char *s)
{
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* Escape a string of the database for a URL or form body (palloc'd). */
char *
cr_url_escape(const char *s)
{
	return cr_url_escape_utf8(cr_server_to_utf8(s));
}

/*
 * Escape a string already in UTF-8 (an id read from a Graph page, or a
 * chain's id) for a URL, as a palloc'd copy.
 */
char *
cr_url_escape_utf8(const char *s)
{
	char	   *e = curl_easy_escape(NULL, s, 0);
	char	   *result;

	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	result = pstrdup(e);
	curl_free(e);
	return result;
}

/* Scheme, lower-cased host and port of a URL, or false if it has none. */
static bool
url_origin(const char *url, char *buf, size_t bufsize)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *host = NULL,
			   *port = NULL;
	bool		ok = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
	{
		char	   *p;

		snprintf(buf, bufsize, "%s://%s:%s", scheme, host, port);
		for (p = buf; *p; p++)
			*p = pg_tolower((unsigned char) *p);
		ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/*
 * Whether url may be requested with the token meant for base: same
 * scheme, host and port.  Next links come from the response body, so a
 * hostile or broken answer must not be able to send the token elsewhere.
 */
bool
cr_same_origin(const char *base, const char *url)
{
	char		a[512],
				b[512];

	return url_origin(base, a, sizeof(a)) && url_origin(url, b, sizeof(b)) &&
		strcmp(a, b) == 0;
}

/*
 * The collection a Graph URL reads, to compare next links with the
 * request a chain began with: its path, percent-decoded, in lower case
 * (ids are GUIDs, whose case means nothing), with an OData key segment
 * callRecords('{id}') written as callRecords/{id}.  NULL if url is not a
 * URL.
 */
char *
cr_url_collection(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *path = NULL;
	StringInfoData buf;
	const char *p;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK)
	{
		curl_url_cleanup(u);
		return NULL;
	}
	initStringInfo(&buf);
	for (p = path; *p; p++)
	{
		if (p[0] == '(' && p[1] == '\'')
		{
			const char *close = strstr(p + 2, "')");

			if (close)
			{
				appendStringInfoChar(&buf, '/');
				appendBinaryStringInfo(&buf, p + 2, close - (p + 2));
				p = close + 1;
				continue;
			}
		}
		appendStringInfoChar(&buf, *p);
	}
	for (p = buf.data; *p; p++)
		buf.data[p - buf.data] = pg_tolower((unsigned char) *p);
	curl_free(path);
	curl_url_cleanup(u);
	return buf.data;
}
