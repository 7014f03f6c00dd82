/*-------------------------------------------------------------------------
 *
 * token.c
 *		  The OAuth2 client credentials token of a user mapping, and its
 *		  per-backend cache.
 *
 * A token is fetched from {login_url}/{tenant}/oauth2/v2.0/token with a
 * blocking request (http.c), kept in TopMemoryContext per user mapping,
 * renewed shortly before it expires, dropped when a server or user mapping
 * is altered, and dropped on request after Graph answered 401.
 *
 * Rules kept here: the request body holds the client secret and is wiped
 * as soon as it was sent; a token is wiped from memory when forgotten;
 * neither appears in any message.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/token.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "callrecords_fdw.h"

#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "cr_json.h"
#include "http_int.h"

/* A cached access token for one user mapping. */
typedef struct CrToken
{
	Oid			umid;
	char	   *access_token;	/* in TopMemoryContext */
	TimestampTz refresh_at;		/* get a new one from this time on */
} CrToken;

static List *cr_tokens = NIL;	/* of CrToken *, in TopMemoryContext */

static CrToken *
find_token(Oid umid)
{
	ListCell   *lc;

	foreach(lc, cr_tokens)
	{
		CrToken    *t = lfirst(lc);

		if (t->umid == umid)
			return t;
	}
	return NULL;
}

/* Forget a cached token, wiping it from memory. */
static void
forget_token(CrToken *t)
{
	if (t->access_token)
	{
		explicit_bzero(t->access_token, strlen(t->access_token));
		pfree(t->access_token);
		t->access_token = NULL;
	}
	t->refresh_at = 0;
}

/*
 * ALTER SERVER / ALTER USER MAPPING may change the tenant, the secret or
 * the hosts: drop every cached token so the next request logs in again.
 */
static void
invalidate_tokens(Datum arg, int cacheid, uint32 hashvalue)
{
	ListCell   *lc;

	foreach(lc, cr_tokens)
		forget_token(lfirst(lc));
}

/* The "error" and the first sentence of "error_description" of Entra. */
static void
report_token_error(const CrOptions *opts, const CrResponse *resp)
{
	json_t	   *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *s;
	char	   *code = NULL;
	char	   *desc_copy = NULL;

	if (root && json_is_object(root))
	{
		if ((s = json_string_value(json_object_get(root, "error"))) != NULL)
			code = pstrdup(s);
		if ((s = json_string_value(json_object_get(root, "error_description"))) != NULL)
			desc_copy = pstrdup(s);
	}
	if (root)
		json_decref(root);
	if (desc_copy)
	{
		char	   *cut;
		size_t		len;

		/* keep the AADSTS sentence, drop trace and correlation ids */
		if ((cut = strstr(desc_copy, "\r\n")) != NULL ||
			(cut = strstr(desc_copy, " Trace ID")) != NULL)
			*cut = '\0';
		len = strlen(desc_copy);
		while (len > 0 && (desc_copy[len - 1] == '.' || desc_copy[len - 1] == ' '))
			desc_copy[--len] = '\0';
	}

	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 errmsg("could not obtain an access token for tenant \"%s\"",
					opts->tenant_id),
			 errdetail("The token endpoint answered HTTP %ld%s%s%s%s.", resp->status,
					   code ? ", error \"" : "", code ? code : "", code ? "\"" : "",
					   desc_copy ? psprintf(": %s", desc_copy) : ""),
			 errhint("Check tenant_id of the server and client_id and client_secret of the user mapping; the app needs the CallRecords.Read.All application permission with admin consent.")));
}

/*
 * OAuth2 client credentials grant against the server's login_url.  The
 * request body holds the secret, so it is wiped as soon as it was sent.
 */
static void
fetch_token(const CrOptions *opts, CrToken *t)
{
	char	   *url = psprintf("%s/%s/oauth2/v2.0/token",
							   opts->login_url, cr_url_escape(opts->tenant_id));
	char	   *scope = psprintf("%s/.default", opts->graph_url);
	char	   *body;
	struct curl_slist *headers = NULL;
	CrResponse	resp;
	json_t	   *root;
	const char *token;
	json_int_t	expires_in;
	int64		margin_s;

	body = psprintf("grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
					cr_url_escape(opts->client_id),
					cr_url_escape(opts->client_secret),
					cr_url_escape(scope));
	headers = curl_slist_append(headers, "Accept: application/json");

	PG_TRY();
	{
		cr_http_perform(opts, url, headers, body, &resp);
	}
	PG_FINALLY();
	{
		explicit_bzero(body, strlen(body));
		curl_slist_free_all(headers);
	}
	PG_END_TRY();
	if (resp.status == 0)
		cr_report_transport_error(&resp, "POST", url);
	if (resp.status != 200)
		report_token_error(opts, &resp);

	root = json_loadb(resp.body, resp.body_len, 0, NULL);
	token = root ? json_string_value(json_object_get(root, "access_token")) : NULL;
	expires_in = root ? json_integer_value(json_object_get(root, "expires_in")) : 0;
	if (token == NULL || *token == '\0' || expires_in <= 0)
	{
		if (root)
			json_decref(root);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("token endpoint of tenant \"%s\" gave no usable access token",
						opts->tenant_id),
				 errdetail("The answer lacks \"access_token\" or a positive \"expires_in\".")));
	}

	forget_token(t);
	t->access_token = MemoryContextStrdup(TopMemoryContext, token);
	/* renew a tenth of the lifetime early, at most five minutes early */
	margin_s = Min((int64) expires_in / 10, 300);
	t->refresh_at = GetCurrentTimestamp() +
		((int64) expires_in - margin_s) * USECS_PER_SEC;
	json_decref(root);
	explicit_bzero(resp.body, resp.body_len);
}

/* A valid token for the user mapping, fetched only when needed. */
const char *
cr_get_token(const CrOptions *opts)
{
	CrToken    *t = find_token(opts->umid);

	if (t == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		t = palloc0(sizeof(CrToken));
		t->umid = opts->umid;
		cr_tokens = lappend(cr_tokens, t);
		MemoryContextSwitchTo(old);
	}
	if (t->access_token == NULL || GetCurrentTimestamp() >= t->refresh_at)
		fetch_token(opts, t);
	return t->access_token;
}

/* Forget the token of a user mapping (Graph answered 401 with it). */
void
cr_forget_token(Oid umid)
{
	CrToken    *t = find_token(umid);

	if (t)
		forget_token(t);
}

/* ALTER SERVER and ALTER USER MAPPING drop the cached tokens. */
void
cr_token_init(void)
{
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, invalidate_tokens, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, invalidate_tokens, (Datum) 0);
}
