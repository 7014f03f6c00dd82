/*-------------------------------------------------------------------------
 *
 * identity.c
 *		  The managed identity of the machine the server runs on: which
 *		  endpoint gives its token, in which form, and the request.
 *
 * Two forms, as MSAL and azure-identity speak them.  App Service and
 * Container Apps put IDENTITY_ENDPOINT and IDENTITY_HEADER into the
 * server's environment: GET that endpoint with api-version 2019-08-01 and
 * the header X-IDENTITY-HEADER.  Elsewhere (a VM, a scale set) the Azure
 * Instance Metadata Service answers on 169.254.169.254 with api-version
 * 2018-02-01 and the header "Metadata: true".  A user-assigned identity
 * is picked by client_id, object_id, or its resource id (msi_res_id for
 * the Metadata Service, mi_res_id for App Service).  The superuser-only
 * settings callrecords_fdw.identity_endpoint and identity_header stand in
 * for the environment (MSAL has MSAL_MANAGED_IDENTITY_ENDPOINT).
 *
 * Rules kept here: the endpoint is plain http on the link-local or a
 * loopback address and nothing else (the answer is the machine's
 * identity); token.c sends the request without a proxy; the header value
 * never appears in a message.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/identity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "cr_common.h"
#include "cr_url.h"

#include "lib/stringinfo.h"
#include "http_int.h"

#define CR_IMDS_ENDPOINT	"http://169.254.169.254/metadata/identity/oauth2/token"

/* An environment variable of the server, or NULL when unset or empty. */
static const char *
server_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A setting, or NULL when empty. */
static const char *
setting(const char *value)
{
	return value && *value ? value : NULL;
}

/*
 * The endpoint must be http on the Metadata Service's link-local address
 * or on loopback.  The setting was checked when set; the environment's
 * IDENTITY_ENDPOINT is checked here.
 */
static void
check_endpoint(const char *endpoint)
{
	if (!cr_is_identity_endpoint(endpoint))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("managed identity endpoint \"%s\" is refused", endpoint),
				 errdetail("A managed identity is asked for over http on 169.254.169.254 or a loopback address only."),
				 errhint("Check IDENTITY_ENDPOINT in the server's environment, or the setting " CR_NAME ".identity_endpoint.")));
}

/* Whether a header value can be sent as is: printable ASCII, no CR or LF. */
static bool
header_value_is_clean(const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *) v; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* The user-assigned identity the options pick, as query parameters. */
static void
append_identity_choice(StringInfo url, const CrOptions *opts, bool app_service)
{
	if (opts->managed_identity_client_id)
		appendStringInfo(url, "&client_id=%s", cr_url_escape(opts->managed_identity_client_id));
	if (opts->managed_identity_object_id)
		appendStringInfo(url, "&object_id=%s", cr_url_escape(opts->managed_identity_object_id));
	if (opts->managed_identity_resource_id)
		appendStringInfo(url, "&%s=%s", app_service ? "mi_res_id" : "msi_res_id",
						 cr_url_escape(opts->managed_identity_resource_id));
}

/*
 * The URL of the managed identity's token request; *headers gets its
 * header list (the caller frees it with curl_slist_free_all) and
 * *header_value the App Service header's value, or NULL, which the
 * caller keeps out of messages.
 */
char *
cr_identity_request(const CrOptions *opts, struct curl_slist **headers,
					char **header_value)
{
	const char *header = setting(cr_identity_header) ? cr_identity_header :
		server_env("IDENTITY_HEADER");
	const char *endpoint = setting(cr_identity_endpoint);
	bool		app_service;
	StringInfoData url;
	char	   *line;
	struct curl_slist *first;

	if (endpoint == NULL && header != NULL)
		endpoint = server_env("IDENTITY_ENDPOINT");
	app_service = header != NULL && endpoint != NULL;
	if (endpoint == NULL)
		endpoint = CR_IMDS_ENDPOINT;
	check_endpoint(endpoint);
	if (app_service && !header_value_is_clean(header))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the managed identity header holds characters that cannot be sent in a header")));
	initStringInfo(&url);
	appendStringInfo(&url, "%s%capi-version=%s&resource=%s", endpoint,
					 strchr(endpoint, '?') ? '&' : '?',
					 app_service ? "2019-08-01" : "2018-02-01",
					 cr_url_escape(opts->graph_url));
	append_identity_choice(&url, opts, app_service);

	line = app_service ? psprintf("X-IDENTITY-HEADER: %s", header) : pstrdup("Metadata: true");
	first = curl_slist_append(NULL, "Accept: application/json");
	*headers = first ? curl_slist_append(first, line) : NULL;
	explicit_bzero(line, strlen(line));
	if (*headers == NULL)
	{
		curl_slist_free_all(first);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	*header_value = app_service ? pstrdup(header) : NULL;
	return url.data;
}
