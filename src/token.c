/*-------------------------------------------------------------------------
 *
 * token.c
 *		  The OAuth2 client credentials token of a user mapping, and its
 *		  caches: the backend's and the cluster's.
 *
 * A token is fetched from {login_url}/{tenant}/oauth2/v2.0/token with a
 * blocking request (transfer.c), signing in with the client secret or a
 * client assertion (assertion.c: the certificate's, or the workload
 * identity's token file), or from the machine's managed identity endpoint
 * (identity.c), and kept in TopMemoryContext per user mapping,
 * renewed shortly before it expires, dropped when a server or user mapping
 * is altered (the cluster's when that transaction commits, not on
 * rollback), and dropped on request after Graph answered 401.
 *
 * Where the backends share memory (shared.c), a token is also kept there,
 * keyed by a SHA-256 digest of everything that obtained it (login URL,
 * tenant, client id, the credential's kind, the client secret, the
 * certificate's thumbprint and key, the managed identity chosen and its
 * endpoint, the token file, the Graph host): a backend takes a token
 * only with the very credentials that obtained it, and the sessions of
 * one application ask the endpoint once, not once each.  While one
 * backend fetches a token, the others wait for it (a bounded time).
 *
 * Rules kept here: the request body holds the client secret or assertion
 * and is wiped as soon as the answer was read; a token is wiped from
 * memory when forgotten; neither appears in any message, and no text of
 * the endpoint that holds what was sent is copied into one; the managed
 * identity's request never goes through the proxy; a token with control
 * characters is refused (it would inject header lines), a lifetime is
 * clamped to a day; the request is retried as Graph requests are.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/token.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include <curl/curl.h>

#include "cr_common.h"
#include "cr_url.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
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
	uint8		key[PG_SHA256_DIGEST_LENGTH];	/* its credentials' digest */
} CrToken;

/*
 * One sign-in's request: a form POSTed to the login endpoint, or a GET of
 * the managed identity endpoint.  secret is what was sent that must never
 * come back in a message (the client secret, the assertion, the identity
 * header); secret_name names it where a text that quoted it is left out.
 */
typedef struct CrTokenRequest
{
	char	   *url;
	char	   *body;			/* NULL: a GET */
	struct curl_slist *headers;
	char	   *secret;
	const char *secret_name;
} CrTokenRequest;

/*
 * The cluster's tokens (shared.c).  A slot is free while its key is all
 * zero; a token longer than a slot is kept by its backend only.
 */
#define CR_SHARED_TOKENS		32
#define CR_SHARED_TOKEN_LEN		8192
/* how long the others wait for a backend that fetches a token */
#define CR_TOKEN_FETCH_WAIT_S	30

typedef struct CrSharedToken
{
	uint8		key[PG_SHA256_DIGEST_LENGTH];
	TimestampTz refresh_at;		/* the token is good until then */
	TimestampTz fetching_until; /* a backend fetches it; wait until then */
	TimestampTz last_used;
	char		token[CR_SHARED_TOKEN_LEN]; /* "" while none */
} CrSharedToken;

typedef struct CrSharedTokens
{
	CrSharedToken slots[CR_SHARED_TOKENS];
} CrSharedTokens;

/* The shared tokens' part of the cluster's segment (shared.c). */
static int	tokens_part = -1;

static List *cr_tokens = NIL;	/* of CrToken *, in TopMemoryContext */
static object_access_hook_type prev_object_access = NULL;

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

/* A token lifetime beyond a day is taken as a day (Entra's are about an hour). */
#define CR_MAX_TOKEN_LIFETIME_S		86400

/*
 * Whether text from the token endpoint holds what the request sent (the
 * client secret, the assertion), as sent or as escaped in the form body:
 * an endpoint that echoes the request would otherwise put it into a
 * message and the server log.
 */
static bool
holds_secret(const char *secret, const char *text)
{
	if (text == NULL || secret == NULL || *secret == '\0')
		return false;
	return strstr(text, secret) != NULL ||
		strstr(text, cr_server_to_utf8(secret)) != NULL ||
		strstr(text, cr_url_escape(secret)) != NULL;
}

/* Entra's error text with trace and correlation ids and the final stop cut. */
static char *
first_sentence(const char *desc)
{
	char	   *copy = pstrdup(desc);
	char	   *cut;
	size_t		len;

	if ((cut = strstr(copy, "\r\n")) != NULL ||
		(cut = strstr(copy, " Trace ID")) != NULL)
		*cut = '\0';
	len = strlen(copy);
	while (len > 0 && (copy[len - 1] == '.' || copy[len - 1] == ' '))
		copy[--len] = '\0';
	return copy;
}

/*
 * Whether Entra's answer says the failure is passing, not the
 * credentials: a 5xx or 429 still failing after the retries, OAuth's
 * temporarily_unavailable, or the AADSTS codes Entra documents as
 * transient (90033: its directory service is unavailable; 90006: retry).
 * Checking the credentials would send the user the wrong way.
 */
static bool
token_error_is_transient(long status, const char *code, const char *desc)
{
	return status >= 500 || status == 429 ||
		(code && strcmp(code, "temporarily_unavailable") == 0) ||
		(desc && (strncmp(desc, "AADSTS90033:", 12) == 0 ||
				  strncmp(desc, "AADSTS90006:", 12) == 0));
}

/*
 * What to check after Entra refused a credential, by its kind and, where
 * Entra's code says more, by the code: an assertion outside its valid
 * time (AADSTS700024) is the server's clock or a stale token file; an
 * unknown key or bad signature (AADSTS700027) a certificate not uploaded.
 */
static const char *
credential_hint(const CrOptions *opts, const char *desc)
{
	bool		expired = desc && strncmp(desc, "AADSTS700024:", 13) == 0;

	switch (opts->auth)
	{
		case CR_AUTH_SECRET:
			break;
		case CR_AUTH_CERTIFICATE:
		case CR_AUTH_CERTIFICATE_FILE:
			if (expired)
				return "Entra found the assertion outside its valid time: check the database server's clock (NTP).";
			if (desc && strncmp(desc, "AADSTS700027:", 13) == 0)
				return "Upload the certificate (its public part) to the app registration of client_id under Certificates & secrets; the assertion names it by its SHA-256 thumbprint.";
			return "Check tenant_id of the server, client_id of the user mapping and that its certificate is uploaded to that app registration; the app needs the CallRecords.Read.All application permission with admin consent.";
		case CR_AUTH_WORKLOAD_IDENTITY:
			if (expired)
				return "The token in the federated token file has expired: its issuer (the kubelet, a sidecar) has not renewed it.";
			return "Check the app's federated credential (issuer, subject, audience api://AzureADTokenExchange) against the token in the federated token file, and client_id; the app needs the CallRecords.Read.All application permission with admin consent.";
		case CR_AUTH_MANAGED_IDENTITY:
			if (desc && strstr(desc, "Identity not found") != NULL)
				return "The machine has no managed identity of that id: check managed_identity_client_id, managed_identity_object_id or managed_identity_resource_id, and that the identity is assigned to this machine.";
			if (desc && strstr(desc, "header") != NULL)
				return "The endpoint refused the request's header: IDENTITY_HEADER (or " CR_NAME ".identity_header) goes with IDENTITY_ENDPOINT (or " CR_NAME ".identity_endpoint); the Metadata Service takes \"Metadata: true\" instead.";
			return "Check that the machine has a managed identity (system-assigned, or the user-assigned one the user mapping picks) and that it was granted the CallRecords.Read.All application permission.";
	}
	return "Check tenant_id of the server and client_id and client_secret of the user mapping; the app needs the CallRecords.Read.All application permission with admin consent.";
}

/*
 * The text of an error answer that may go into a message: the value of
 * member name, unless it quotes what was sent (then *withheld is set).
 */
static const char *
error_member(json_t *root, const char *name, const CrTokenRequest *req, bool *withheld)
{
	const char *s = json_string_value(json_object_get(root, name));

	if (s && holds_secret(req->secret, s))
	{
		*withheld = true;
		return NULL;
	}
	return s;
}

/*
 * The "error" and the first sentence of "error_description" of Entra (or
 * of the Metadata Service, which answers alike; App Service's "message").
 * A text that holds what was sent is left out, never copied.
 */
static void
report_token_error(const CrOptions *opts, const CrTokenRequest *req, const CrResponse *resp)
{
	json_t	   *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	const char *s;
	char	   *code = NULL;
	char	   *desc_copy = NULL;
	bool		withheld = false;
	bool		identity = opts->auth == CR_AUTH_MANAGED_IDENTITY;

	if (root && json_is_object(root))
	{
		if ((s = error_member(root, "error", req, &withheld)) != NULL)
			code = pstrdup(s);
		if ((s = error_member(root, "error_description", req, &withheld)) != NULL ||
			(s = error_member(root, "message", req, &withheld)) != NULL)
			desc_copy = first_sentence(s);
	}
	if (root)
		json_decref(root);
	explicit_bzero(resp->body, resp->body_len);

	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 identity ? errmsg("could not obtain an access token from the managed identity endpoint") :
			 errmsg("could not obtain an access token for tenant \"%s\"",
					opts->tenant_id),
			 errdetail("The %s answered HTTP %ld%s%s%s%s%s.",
					   identity ? "managed identity endpoint" : "token endpoint", resp->status,
					   code ? ", error \"" : "", code ? code : "", code ? "\"" : "",
					   desc_copy ? psprintf(": %s", desc_copy) : "",
					   withheld ? psprintf(" (text that quoted the %s left out)", req->secret_name) : ""),
			 token_error_is_transient(resp->status, code, desc_copy) ?
			 errhint("This is passing trouble at Entra, not the credentials: retry the query; Entra answered %s.",
					 desc_copy && strncmp(desc_copy, "AADSTS", 6) == 0 ?
					 pnstrdup(desc_copy, strcspn(desc_copy, ":")) :
					 code ? code : psprintf("HTTP %ld", resp->status)) :
			 errhint("%s", credential_hint(opts, desc_copy))));
}

/*
 * Whether the managed identity endpoint asks to be asked again: the
 * Metadata Service answers 404 while a token is not available yet and 410
 * while it restarts (azure-identity retries both, 410 for 70 seconds).
 */
static bool
identity_is_retryable(const CrOptions *opts, const CrResponse *resp)
{
	return opts->auth == CR_AUTH_MANAGED_IDENTITY &&
		(resp->status == 404 || resp->status == 410);
}

/*
 * Send the token request, retried as Graph requests are (http.c): on 429,
 * 500, 502, 503, 504 and transport failures (and the identity endpoint's
 * 404 and 410), up to max_retries times and max_retry_wait seconds of
 * waiting.  The answer is left in resp.
 */
static void
send_token_request(const CrOptions *opts, const CrTokenRequest *req, CrResponse *resp)
{
	double		waited_ms = 0;
	int			retries = 0;

	for (;;)
	{
		double		delay;

		cr_transfer_perform(opts, req->url, req->headers, req->body, resp);
		if (!(cr_is_retryable(resp) || identity_is_retryable(opts, resp)) ||
			retries >= opts->max_retries)
			break;
		delay = cr_retry_delay_ms(resp, retries);
		if (waited_ms + delay > opts->max_retry_wait * 1000.0)
			break;
		cr_wait_interruptibly(delay);
		waited_ms += delay;
		retries++;
	}
	resp->retries = retries;
}

/*
 * Whether a token can go into an Authorization header: printable ASCII
 * only.  A CR or LF would end the header and start others of the
 * endpoint's choosing.
 */
static bool
token_is_clean(const char *token)
{
	const unsigned char *p;

	for (p = (const unsigned char *) token; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

/* Refuse a token answer that cannot be used. */
static void
report_unusable_token(const CrOptions *opts, const char *why)
{
	if (opts->auth == CR_AUTH_MANAGED_IDENTITY)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("managed identity endpoint gave no usable access token"),
				 errdetail("%s", why)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 errmsg("token endpoint of tenant \"%s\" gave no usable access token",
					opts->tenant_id),
			 errdetail("%s", why)));
}

/*
 * A whole number of seconds as the token endpoints write it: a JSON
 * integer (Entra), or a string of digits (the managed identity endpoints,
 * as MSAL reads them with int()).  False for anything else.
 */
static bool
json_seconds(json_t *v, int64 *result)
{
	const char *s;
	char	   *end;
	long long	n;

	if (json_is_integer(v))
	{
		*result = (int64) json_integer_value(v);
		return true;
	}
	if ((s = json_string_value(v)) == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*result = (int64) n;
	return true;
}

/*
 * The seconds a token answer says its token lives: expires_in, or where
 * only expires_on (epoch seconds) is given, as App Service does, the time
 * left until then.  0 when neither says.
 */
static int64
token_lifetime(json_t *root)
{
	int64		v;

	if (json_seconds(json_object_get(root, "expires_in"), &v))
		return v;
	if (json_seconds(json_object_get(root, "expires_on"), &v))
		return v - (int64) time(NULL);
	return 0;
}

/* The token URL of the server's login endpoint and tenant (the assertion's aud). */
static char *
token_url(const CrOptions *opts)
{
	return psprintf("%s/%s/oauth2/v2.0/token",
					opts->login_url, cr_url_escape(opts->tenant_id));
}

/* A header list of one line, or an error. */
static struct curl_slist *
accept_json_header(void)
{
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");

	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return headers;
}

/*
 * The client credentials grant's form: the client secret, or a client
 * assertion (the certificate's JWT, or the workload identity's token
 * file) in its place.
 */
static void
build_login_request(const CrOptions *opts, CrTokenRequest *req)
{
	char	   *scope = psprintf("%s/.default", opts->graph_url);

	req->url = token_url(opts);
	if (opts->client_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("workload identity has no client id"),
				 errhint("Set the user mapping option client_id, or AZURE_CLIENT_ID in the server's environment.")));
	if (opts->auth == CR_AUTH_SECRET)
	{
		req->secret = pstrdup(opts->client_secret);
		req->secret_name = "client secret";
		req->body = psprintf("grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
							 cr_url_escape(opts->client_id),
							 cr_url_escape(req->secret),
							 cr_url_escape(scope));
	}
	else
	{
		req->secret = opts->auth == CR_AUTH_WORKLOAD_IDENTITY ?
			cr_federated_assertion(opts) : cr_certificate_assertion(opts, req->url);
		req->secret_name = "client assertion";
		req->body = psprintf("grant_type=client_credentials&client_id=%s"
							 "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
							 "&client_assertion=%s&scope=%s",
							 cr_url_escape(opts->client_id),
							 cr_url_escape(req->secret),
							 cr_url_escape(scope));
	}
	req->headers = accept_json_header();
}

/*
 * The managed identity's GET, sent without the server's proxy: the
 * endpoint is on the machine itself (identity.c), and its answer must
 * not pass through anyone.
 */
static void
build_identity_request(const CrOptions *opts, CrTokenRequest *req)
{
	req->url = cr_identity_request(opts, &req->headers, &req->secret);
	req->secret_name = "identity header";
}

/* Wipe what a request sent and free its header list. */
static void
wipe_request(CrTokenRequest *req)
{
	if (req->body)
		explicit_bzero(req->body, strlen(req->body));
	if (req->secret)
		explicit_bzero(req->secret, strlen(req->secret));
	curl_slist_free_all(req->headers);
	req->headers = NULL;
}

/*
 * Build the request of the user mapping's credential, send it, and raise
 * Entra's (or the identity endpoint's) refusal; the caller wipes req.
 */
static void
send_sign_in(const CrOptions *opts, CrTokenRequest *req, CrResponse *resp)
{
	CrOptions	direct;

	if (opts->auth == CR_AUTH_MANAGED_IDENTITY)
	{
		build_identity_request(opts, req);
		direct = *opts;
		direct.proxy = direct.proxy_user = direct.proxy_password = NULL;
		send_token_request(&direct, req, resp);
	}
	else
	{
		build_login_request(opts, req);
		send_token_request(opts, req, resp);
	}
	if (resp->status == 0)
		cr_report_transport_error(resp, req->body ? "POST" : "GET", req->url);
	if (resp->status != 200)
		report_token_error(opts, req, resp);
}

/*
 * Sign in once.  What was sent is wiped on every path, an error's too;
 * the answer's body is left in resp.
 */
static void
sign_in(const CrOptions *opts, CrResponse *resp)
{
	CrTokenRequest req = {0};

	PG_TRY();
	{
		send_sign_in(opts, &req, resp);
	}
	PG_CATCH();
	{
		wipe_request(&req);
		PG_RE_THROW();
	}
	PG_END_TRY();
	wipe_request(&req);
}

/*
 * Obtain a token for the user mapping's credential and keep it in t,
 * with the time to renew it.
 */
static void
fetch_token(const CrOptions *opts, CrToken *t)
{
	CrResponse	resp;
	json_t	   *root;
	const char *token;
	int64		expires_in;
	int64		margin_s;

	sign_in(opts, &resp);
	root = json_loadb(resp.body, resp.body_len, 0, NULL);
	explicit_bzero(resp.body, resp.body_len);
	token = root ? json_string_value(json_object_get(root, "access_token")) : NULL;
	expires_in = root ? token_lifetime(root) : 0;
	if (token == NULL || *token == '\0' || expires_in <= 0 || !token_is_clean(token))
	{
		bool		dirty = token != NULL && *token != '\0' && !token_is_clean(token);

		if (root)
			json_decref(root);
		report_unusable_token(opts, dirty ?
							  "The access token holds characters that cannot be sent in a header." :
							  opts->auth == CR_AUTH_MANAGED_IDENTITY ?
							  "The answer lacks \"access_token\", or a positive \"expires_in\" or a future \"expires_on\"." :
							  "The answer lacks \"access_token\" or a positive \"expires_in\".");
	}

	forget_token(t);
	t->access_token = MemoryContextStrdup(TopMemoryContext, token);
	/* a day at most; renew a tenth of the lifetime early, at most 5 min */
	expires_in = Min(expires_in, CR_MAX_TOKEN_LIFETIME_S);
	margin_s = Min(expires_in / 10, 300);
	t->refresh_at = GetCurrentTimestamp() + (expires_in - margin_s) * USECS_PER_SEC;
	json_decref(root);
}

/*
 * The digest that keys a shared token: everything that went into
 * obtaining it, so that a role whose user mapping names the same client
 * with another secret, another key or another identity never gets the
 * token.  A certificate counts by its thumbprint once its key was found
 * to match it (assertion.c), and by the key's text: the certificate is
 * public, the key is what proves the right to the token.
 */
static void
credentials_key(const CrOptions *opts, uint8 *key)
{
	const char *parts[] = {opts->login_url, opts->tenant_id, opts->client_id,
		opts->client_secret, opts->graph_url, cr_auth_kind_name(opts->auth),
		opts->client_private_key, opts->client_private_key_password,
		opts->client_certificate_file, opts->client_certificate_password,
		opts->managed_identity_client_id, opts->managed_identity_object_id,
		opts->managed_identity_resource_id, cr_identity_endpoint, cr_identity_header,
		opts->auth == CR_AUTH_MANAGED_IDENTITY ? getenv("IDENTITY_ENDPOINT") : NULL,
		opts->auth == CR_AUTH_MANAGED_IDENTITY ? getenv("IDENTITY_HEADER") : NULL,
	opts->federated_token_file};
	uint8		thumbprint[CR_THUMBPRINT_LEN] = {0};
	pg_cryptohash_ctx *ctx;
	bool		ok;
	int			i;

	if (opts->auth == CR_AUTH_CERTIFICATE || opts->auth == CR_AUTH_CERTIFICATE_FILE)
		cr_certificate_thumbprint(opts, thumbprint);
	ctx = pg_cryptohash_create(PG_SHA256);
	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, thumbprint, sizeof(thumbprint)) == 0;
	/* each part with its terminating zero, so that no two lists run together */
	for (i = 0; ok && i < (int) lengthof(parts); i++)
	{
		const char *part = parts[i] ? parts[i] : "";

		ok = pg_cryptohash_update(ctx, (const uint8 *) part, strlen(part) + 1) == 0;
	}
	ok = ok && pg_cryptohash_final(ctx, key, PG_SHA256_DIGEST_LENGTH) == 0;
	pg_cryptohash_free(ctx);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not compute the digest that keys a shared access token")));
}

/* The shared slot of a key, or NULL; the caller holds the lock. */
static CrSharedToken *
find_shared(CrSharedTokens *st, const uint8 *key)
{
	int			i;

	for (i = 0; i < CR_SHARED_TOKENS; i++)
		if (memcmp(st->slots[i].key, key, PG_SHA256_DIGEST_LENGTH) == 0)
			return &st->slots[i];
	return NULL;
}

/*
 * A slot for a new key: a free one, else the one used longest ago that no
 * backend is fetching, wiped.  NULL if every slot is being fetched.
 */
static CrSharedToken *
claim_shared(CrSharedTokens *st, TimestampTz now)
{
	CrSharedToken *best = NULL;
	int			i;

	for (i = 0; i < CR_SHARED_TOKENS; i++)
	{
		CrSharedToken *s = &st->slots[i];

		if (s->fetching_until > now)
			continue;
		if (best == NULL || s->last_used < best->last_used)
			best = s;
	}
	if (best)
		explicit_bzero(best, sizeof(CrSharedToken));
	return best;
}

typedef enum CrTokenSource
{
	CR_TOKEN_TAKEN,				/* the cluster's token was copied */
	CR_TOKEN_CLAIMED,			/* fetch it and publish it in the slot */
	CR_TOKEN_ALONE				/* fetch it for this backend only */
} CrTokenSource;

/*
 * Take the cluster's token for the key into t, or claim its slot for this
 * backend to fetch it, waiting while another backend fetches it.
 */
static CrTokenSource
take_or_claim(const uint8 *key, CrToken *t, int *slot)
{
	for (;;)
	{
		LWLock	   *lock = cr_shared_lock();
		CrSharedTokens *st;
		CrSharedToken *s;
		TimestampTz now = GetCurrentTimestamp();

		if (lock == NULL)
			return CR_TOKEN_ALONE;
		st = cr_shared_part(tokens_part);
		s = find_shared(st, key);
		if (s && s->token[0] && now < s->refresh_at)
		{
			char		copy[CR_SHARED_TOKEN_LEN];

			strlcpy(copy, s->token, sizeof(copy));
			s->last_used = now;
			t->refresh_at = s->refresh_at;
			cr_shared_unlock(lock);
			t->access_token = MemoryContextStrdup(TopMemoryContext, copy);
			explicit_bzero(copy, sizeof(copy));
			return CR_TOKEN_TAKEN;
		}
		if (s && s->fetching_until > now)
		{
			cr_shared_unlock(lock);
			cr_wait_interruptibly(20);
			continue;
		}
		if (s == NULL && (s = claim_shared(st, now)) == NULL)
		{
			cr_shared_unlock(lock);
			return CR_TOKEN_ALONE;
		}
		memcpy(s->key, key, PG_SHA256_DIGEST_LENGTH);
		explicit_bzero(s->token, sizeof(s->token));
		s->refresh_at = 0;
		s->fetching_until = now + (TimestampTz) CR_TOKEN_FETCH_WAIT_S * USECS_PER_SEC;
		s->last_used = now;
		*slot = s - st->slots;
		cr_shared_unlock(lock);
		return CR_TOKEN_CLAIMED;
	}
}

/*
 * End a claim: publish the fetched token (token NULL: the fetch failed,
 * let the next backend try), unless another backend took the slot over.
 */
static void
publish_shared(const uint8 *key, int slot, const CrToken *t)
{
	LWLock	   *lock = cr_shared_lock();
	CrSharedToken *s = &((CrSharedTokens *) cr_shared_part(tokens_part))->slots[slot];

	if (memcmp(s->key, key, PG_SHA256_DIGEST_LENGTH) == 0)
	{
		if (t && strlen(t->access_token) < sizeof(s->token))
		{
			strlcpy(s->token, t->access_token, sizeof(s->token));
			s->refresh_at = t->refresh_at;
		}
		s->fetching_until = 0;
	}
	cr_shared_unlock(lock);
}

/* The slot this backend claimed and fetches a token for, if any. */
static int	claimed_slot = -1;
static uint8 claimed_key[PG_SHA256_DIGEST_LENGTH];

/*
 * A backend that ends while it fetches (pg_terminate_backend, a lost
 * client: FATAL, which no PG_CATCH sees) frees its claim on the way out;
 * otherwise the others would wait out CR_TOKEN_FETCH_WAIT_S for it.
 */
static void
release_claim_at_exit(int code, Datum arg)
{
	if (claimed_slot >= 0)
		publish_shared(claimed_key, claimed_slot, NULL);
	claimed_slot = -1;
}

/* Fetch the token of a claimed slot and publish it, or free the claim. */
static void
fetch_and_publish(const CrOptions *opts, const uint8 *key, int slot, CrToken *t)
{
	static bool exit_callback_registered = false;

	if (!exit_callback_registered)
	{
		before_shmem_exit(release_claim_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	memcpy(claimed_key, key, PG_SHA256_DIGEST_LENGTH);
	claimed_slot = slot;
	PG_TRY();
	{
		fetch_token(opts, t);
	}
	PG_CATCH();
	{
		claimed_slot = -1;
		publish_shared(key, slot, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	claimed_slot = -1;
	publish_shared(key, slot, t);
}

/* A valid token for the user mapping, fetched only when needed. */
const char *
cr_get_token(const CrOptions *opts)
{
	CrToken    *t = find_token(opts->umid);
	uint8		key[PG_SHA256_DIGEST_LENGTH];
	int			slot = -1;

	if (t == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		t = palloc0(sizeof(CrToken));
		t->umid = opts->umid;
		cr_tokens = lappend(cr_tokens, t);
		MemoryContextSwitchTo(old);
	}
	if (t->access_token != NULL && GetCurrentTimestamp() < t->refresh_at)
		return t->access_token;
	forget_token(t);
	credentials_key(opts, key);
	memcpy(t->key, key, sizeof(t->key));
	switch (take_or_claim(key, t, &slot))
	{
		case CR_TOKEN_TAKEN:
			break;
		case CR_TOKEN_ALONE:
			fetch_token(opts, t);
			break;
		case CR_TOKEN_CLAIMED:
			fetch_and_publish(opts, key, slot, t);
			break;
	}
	return t->access_token;
}

/*
 * Forget the token of a user mapping, Graph having answered 401 with it:
 * in the cluster too, unless another backend already put a new one there.
 */
void
cr_forget_token(const CrOptions *opts)
{
	CrToken    *t = find_token(opts->umid);
	LWLock	   *lock;

	if (t == NULL || t->access_token == NULL)
		return;
	/* the key the token was obtained with: no certificate is read again */
	if ((lock = cr_shared_lock()) != NULL)
	{
		CrSharedToken *s = find_shared(cr_shared_part(tokens_part), t->key);

		if (s && strcmp(s->token, t->access_token) == 0)
		{
			explicit_bzero(s->token, sizeof(s->token));
			s->refresh_at = 0;
		}
		cr_shared_unlock(lock);
	}
	forget_token(t);
}

/*
 * The transaction nesting level of the outermost (sub)transaction that
 * created, altered or dropped a server or user mapping and has not ended
 * yet, or 0: the cluster's tokens are dropped when the top transaction
 * commits, not when the command runs.
 */
static int	drop_pending_level = 0;

/*
 * Drop every token of the cluster's (all of them: the digest of the old
 * credentials is not at hand), except those a backend is fetching now.
 */
static void
drop_shared_tokens(void)
{
	LWLock	   *lock;

	if ((lock = cr_shared_lock()) != NULL)
	{
		CrSharedTokens *st = cr_shared_part(tokens_part);
		int			i;

		for (i = 0; i < CR_SHARED_TOKENS; i++)
			if (st->slots[i].fetching_until == 0)
				explicit_bzero(&st->slots[i], sizeof(CrSharedToken));
		cr_shared_unlock(lock);
	}
}

/*
 * A server or user mapping was created, altered or dropped: note that the
 * cluster's tokens go when the transaction commits.  An administrator who
 * rotated a secret, or granted the app a permission that only a new token
 * carries, expects the next query to log in again; one who rolled the
 * change back expects nothing to change, and dropping the tokens before
 * the change is visible would let another backend store a token of the
 * old settings again.  The other backends drop their own on invalidation.
 */
static void
note_alter(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	if (access != OAT_POST_ALTER && access != OAT_POST_CREATE && access != OAT_DROP)
		return;
	if (classId != ForeignServerRelationId && classId != UserMappingRelationId)
		return;
	if (drop_pending_level == 0 || level < drop_pending_level)
		drop_pending_level = level;
}

/*
 * At the end of the top transaction: drop the cluster's tokens if it
 * committed a change (its catalog rows are visible to the others by
 * then), forget the change either way.  Nothing here may fail: a commit
 * cannot be undone, so a missing shared segment just drops nothing.
 */
static void
tokens_at_xact_end(XactEvent event, void *arg)
{
	if (drop_pending_level == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:	/* its commit may come from any backend */
			drop_shared_tokens();
			drop_pending_level = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			drop_pending_level = 0;
			break;
		default:
			break;
	}
}

/*
 * A subtransaction that rolls back takes its changes with it; one that
 * commits hands them to its parent.
 */
static void
tokens_at_subxact_end(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (drop_pending_level < level)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		drop_pending_level = 0;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		drop_pending_level = level - 1;
}

/*
 * ALTER SERVER and ALTER USER MAPPING drop the cached tokens (the
 * cluster's when the transaction commits); the shared tokens get their part of the cluster's segment (shared.c).
 */
void
cr_token_init(void)
{
	tokens_part = cr_shared_register("tokens", sizeof(CrSharedTokens));
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, invalidate_tokens, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, invalidate_tokens, (Datum) 0);
	prev_object_access = object_access_hook;
	object_access_hook = note_alter;
	RegisterXactCallback(tokens_at_xact_end, NULL);
	RegisterSubXactCallback(tokens_at_subxact_end, NULL);
}
