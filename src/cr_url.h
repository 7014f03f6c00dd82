/*-------------------------------------------------------------------------
 *
 * cr_url.h
 *		  The URLs layer: Graph request paths, OData filters and literals
 *		  (deparse.c).
 *
 * Stands on the ground (cr_common.h) only; the Graph client, the fetch
 * pipeline and EXPLAIN build their URLs with these.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_url.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_URL_H
#define CR_URL_H

#include "cr_common.h"

/* in deparse.c */
extern char *cr_server_to_utf8(const char *s);
extern char *cr_url_escape(const char *s);
extern char *cr_url_escape_utf8(const char *s);
extern bool cr_same_origin(const char *base, const char *url);
extern char *cr_url_collection(const char *url);
extern char *cr_record_path(const CrOptions *opts, const CrResource *res,
							const char *id_text, const char *select,
							bool segments);
extern char *cr_list_path(const CrOptions *opts, List *filters, const char *select);
extern char *cr_filter_term(CrQualRole role, const char *literal);
extern char *cr_participant_term(const char *literal);
extern char *cr_odata_string(const char *value);
extern char *cr_function_path(const CrOptions *opts, const CrResource *res,
							  const char *from_text, const char *to_text);
extern char *cr_odata_timestamp(TimestampTz t, bool minus_tick);

#endif							/* CR_URL_H */
