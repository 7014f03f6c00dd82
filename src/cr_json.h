/*-------------------------------------------------------------------------
 *
 * cr_json.h
 *		  Include jansson next to PostgreSQL's headers.
 *
 * jansson's json_object() has the name of the SQL function json_object()
 * that utils/fmgrprotos.h declares.  Including the PostgreSQL side with
 * that name hidden, then jansson, lets one file use both.  Include this
 * after every other PostgreSQL header.
 *
 * IDENTIFICATION
 *		  src/cr_json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_JSON_H
#define CR_JSON_H

#define json_object pg_sql_json_object
#include "utils/builtins.h"
#undef json_object

#include <jansson.h>

#endif							/* CR_JSON_H */
