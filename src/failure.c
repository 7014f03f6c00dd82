/*-------------------------------------------------------------------------
 *
 * failure.c
 *		  When Graph fails: which failures are worth a retry and after how
 *		  long, and the PostgreSQL error of one that is not.
 *
 * http.c and token.c ask here whether to retry and how long to wait, and
 * raise the errors built here.  Rules kept: a message names the path of a
 * request, never its host, query token or secret (cr_url_path()); DETAIL
 * carries Graph's error code and request-id, which Microsoft support asks
 * for; a setting that is wrong (an unknown host, a refused connection, a
 * certificate that does not verify) fails at once instead of after the
 * retries, but a refused connection to a host that answered earlier in
 * the statement is retried (a restart on the way).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/failure.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "cr_common.h"

#include "common/pg_prng.h"
#include "cr_json.h"
#include "http_int.h"

/* Backoff before retries without Retry-After: 0.5 s doubling, at most 30 s. */
#define CR_BACKOFF_BASE_MS		500.0
#define CR_BACKOFF_CAP_MS		30000.0

/* the longest URL path a message quotes whole */
#define CR_MESSAGE_PATH_MAX		300

/*
 * The part of a URL after its host, for messages: never a host or token,
 * and cut short past CR_MESSAGE_PATH_MAX (a list of 100,000 ids is not
 * worth a 100 kB CONTEXT line in the log).
 */
const char *
cr_url_path(const char *url)
{
	const char *p = strstr(url, "://");
	size_t		len;

	if (p == NULL)
		p = url;
	else if ((p = strchr(p + 3, '/')) == NULL)
		return "/";
	len = strlen(p);
	if (len <= CR_MESSAGE_PATH_MAX)
		return p;
	return psprintf("%.*s... (%zu bytes more)", CR_MESSAGE_PATH_MAX, p,
					len - CR_MESSAGE_PATH_MAX);
}

/* Raise the error of a request that failed below HTTP (status 0). */
void
cr_report_transport_error(const CrResponse *resp, const char *method, const char *url)
{
	CURLcode	rc = (CURLcode) resp->transport_rc;

	ereport(ERROR,
			(errcode(rc == CURLE_OPERATION_TIMEDOUT ? ERRCODE_FDW_ERROR
					 : ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 strcmp(method, "POST") == 0 ?
			 errmsg("could not complete the token request: %s", curl_easy_strerror(rc)) :
			 errmsg("could not complete request to Graph: %s", curl_easy_strerror(rc)),
			 resp->retries > 0 ?
			 errdetail("%s (after %d retries).", resp->transport_error, resp->retries) :
			 errdetail("%s", resp->transport_error),
			 errcontext("%s %s", method, cr_url_path(url))));
}


/*
 * Whether an answer is worth asking again: throttling (429), server
 * trouble (500, 502, 503, 504) and transport failures such as timeouts or
 * a dropped or reset connection.  A host that does not resolve, a refused
 * connection, a certificate that does not verify or a cancel are not:
 * they say the settings are wrong (or the user gave up), and retrying
 * them only makes the error come 20 s later.  Except a connection refused
 * by a host that answered earlier in the statement: the settings are
 * right, and Graph or a proxy on the way is restarting.
 */
bool
cr_is_retryable(const CrResponse *resp)
{
	switch (resp->status)
	{
		case 0:
			switch (resp->transport_rc)
			{
				case CURLE_COULDNT_CONNECT:
					return resp->host_answered;
				case CURLE_ABORTED_BY_CALLBACK:
				case CURLE_COULDNT_RESOLVE_HOST:
				case CURLE_COULDNT_RESOLVE_PROXY:
				case CURLE_UNSUPPORTED_PROTOCOL:
				case CURLE_URL_MALFORMAT:
				case CURLE_PEER_FAILED_VERIFICATION:
				case CURLE_SSL_CACERT_BADFILE:
					return false;
				default:
					return true;
			}
		case 429:
		case 500:
		case 502:
		case 503:
		case 504:
			return true;
		default:
			return false;
	}
}

/* a longer Retry-After reads as this (a day), refused like it anyway */
#define CR_RETRY_AFTER_MAX_S	86400

/*
 * How long to wait before retry number n (from 0): what Retry-After says,
 * else exponential backoff with jitter, so that many backends do not come
 * back at the same moment.
 */
double
cr_retry_delay_ms(const CrResponse *resp, int n)
{
	char	   *end;
	long		secs;
	double		backoff;

	errno = 0;
	secs = strtol(resp->retry_after, &end, 10);
	if (resp->retry_after[0] != '\0' && *end == '\0' && secs >= 0)
		return (errno == ERANGE || secs > CR_RETRY_AFTER_MAX_S ?
				CR_RETRY_AFTER_MAX_S : secs) * 1000.0;
	backoff = Min(CR_BACKOFF_CAP_MS, CR_BACKOFF_BASE_MS * (double) (1 << Min(n, 16)));
	return backoff * (0.5 + pg_prng_double(&pg_global_prng_state));
}


/*
 * Raise the error for a Graph answer that is not a success.  DETAIL carries
 * Graph's error code and request-id, which Microsoft support asks for.
 */
void
cr_report_graph_error(const CrResponse *resp, const char *url)
{
	json_t	   *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t	   *err = root ? json_object_get(root, "error") : NULL;
	char	   *code = NULL;
	char	   *message = NULL;
	const char *request_id = resp->request_id;
	int			sqlstate;

	if (err && json_is_object(err))
	{
		json_t	   *inner = json_object_get(err, "innerError");

		if (inner == NULL)
			inner = json_object_get(err, "innererror");
		if (json_string_value(json_object_get(err, "code")))
			code = pstrdup(json_string_value(json_object_get(err, "code")));
		if (json_string_value(json_object_get(err, "message")))
			message = pstrdup(json_string_value(json_object_get(err, "message")));
		if (request_id[0] == '\0' && inner &&
			json_string_value(json_object_get(inner, "request-id")))
			request_id = pstrdup(json_string_value(json_object_get(inner, "request-id")));
	}
	if (root)
		json_decref(root);

	switch (resp->status)
	{
		case 401:
			sqlstate = ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
			break;
		case 403:
			sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			break;
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("Graph request failed with HTTP status %ld%s%s",
					resp->status, message ? ": " : "", message ? message : ""),
			 resp->retries > 0 ?
			 errdetail("Graph error code: %s, request-id: %s, after %d retries.",
					   code ? code : "(none)",
					   request_id[0] ? request_id : "(none)", resp->retries) :
			 errdetail("Graph error code: %s, request-id: %s.",
					   code ? code : "(none)",
					   request_id[0] ? request_id : "(none)"),
			 resp->status == 403 ?
			 errhint("The app registration needs the CallRecords.Read.All application permission with admin consent.") :
			 resp->refused_wait_ms > 0 ?
			 errhint("Graph asked to wait %.0f s before retrying, more than the server option max_retry_wait allows.",
					 resp->refused_wait_ms / 1000.0) :
			 resp->status == 429 ?
			 errhint("Graph throttles call record requests (40 per call record and 1,500 per app and tenant in 20 s); try again later or raise max_retries.") : 0,
			 errcontext("GET %s", cr_url_path(url))));
}
