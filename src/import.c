/*-------------------------------------------------------------------------
 *
 * import.c
 *		  The catalogue as SQL: IMPORT FOREIGN SCHEMA, and the functions
 *		  callrecords_fdw_tables() and callrecords_fdw_columns() that list
 *		  it (README's table reference is generated from them).
 *
 * Rules kept here: the tables created are exactly the catalogue's (names,
 * column names and types from catalog.c, nothing invented here); LIMIT TO
 * and EXCEPT are honoured; the beta-only tables and columns only on a beta
 * server; the properties Graph stopped filling only when asked for with
 * include_deprecated; every column gets a comment saying what it means,
 * with its unit, and where it comes from in Graph.
 *
 * IMPORT FOREIGN SCHEMA runs only CREATE FOREIGN TABLE statements that an
 * FDW returns (core refuses any other kind), so to comment the columns the
 * import creates the tables itself, as core would: each statement run as
 * a subcommand, under the same LIMIT TO / EXCEPT filter and error context,
 * and then returns no statements.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_import.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "nodes/parsenodes.h"
#include "funcapi.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

static char *column_description(const CrColumnDef *col);

/*
 * Properties Graph stopped filling (v1.0 removal date 2026-11-06): the
 * call record's organizer and participants and an endpoint's identity,
 * replaced by organizer_v2, participants_v2 and associatedIdentity.  A
 * column of them would be NULL in every row, so IMPORT FOREIGN SCHEMA
 * makes one only with include_deprecated 'true'.
 */
static bool
is_deprecated(const CrColumnDef *col)
{
	size_t		len = col->path ? strlen(col->path) : 0;

	if (col->path == NULL)
		return false;
	if (col->level == CR_LEVEL_RECORD)
		return strcmp(col->path, "organizer") == 0 || strcmp(col->path, "participants") == 0;
	return (strncmp(col->path, "caller.", 7) == 0 || strncmp(col->path, "callee.", 7) == 0) &&
		len > 9 && strcmp(col->path + len - 9, ".identity") == 0;
}

/* The include_deprecated option of IMPORT FOREIGN SCHEMA; others are errors. */
static bool
import_include_deprecated(ImportForeignSchemaStmt *stmt)
{
	bool		include = false;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "include_deprecated") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for IMPORT FOREIGN SCHEMA", def->defname),
					 errhint("Valid options: include_deprecated.")));
		if (!parse_bool(defGetString(def), &include))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"include_deprecated\": \"%s\"",
							defGetString(def)),
					 errhint("Give a boolean: 'true' or 'false' (on/off, yes/no and 1/0 are read too).")));
	}
	return include;
}

/* CREATE FOREIGN TABLE for one resource, with the columns of the API version. */
static char *
create_table_command(ImportForeignSchemaStmt *stmt, ForeignServer *server,
					 const CrResource *res, bool beta, bool deprecated, List **columns)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n",
					 quote_qualified_identifier(stmt->local_schema, res->name));
	foreach(lc, cr_resource_columns(res))
	{
		const CrColumnDef *col = lfirst(lc);

		if ((col->beta_only && !beta) || (!deprecated && is_deprecated(col)))
			continue;
		appendStringInfo(&buf, "%s  %s %s", first ? "" : ",\n",
						 quote_identifier(col->name), cr_pg_type_name(col->type));
		*columns = lappend(*columns, (void *) col);
		first = false;
	}
	appendStringInfo(&buf, "\n) SERVER %s OPTIONS (resource %s)",
					 quote_identifier(server->servername),
					 quote_literal_cstr(res->name));
	return buf.data;
}

/*
 * IMPORT FOREIGN SCHEMA callrecords: one CREATE FOREIGN TABLE per resource,
 * straight from the catalogue, so imported tables always match what the
 * scan understands.
 */
/* Error context of a table being created, in core's words. */
static void
import_error_callback(void *arg)
{
	errcontext("importing foreign table \"%s\"", (const char *) arg);
}

/*
 * Create one table from its CREATE FOREIGN TABLE statement as core's
 * ImportForeignSchema would (in the statement's local schema, as a
 * subcommand, so event triggers see it), then comment its columns.
 */
static void
create_commented_table(ImportForeignSchemaStmt *stmt, const CrResource *res, const char *cmd,
					   List *columns)
{
	ErrorContextCallback errcb;
	RawStmt    *rs = linitial_node(RawStmt, pg_parse_query(cmd));
	CreateForeignTableStmt *cstmt = castNode(CreateForeignTableStmt, rs->stmt);
	PlannedStmt *pstmt = makeNode(PlannedStmt);
	Oid			relid;
	ListCell   *lc;

	errcb.callback = import_error_callback;
	errcb.arg = (void *) res->name;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	cstmt->base.relation->schemaname = pstrdup(stmt->local_schema);
	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = false;
	pstmt->utilityStmt = (Node *) cstmt;
	pstmt->stmt_location = rs->stmt_location;
	pstmt->stmt_len = rs->stmt_len;
	ProcessUtility(pstmt, cmd, false, PROCESS_UTILITY_SUBCOMMAND, NULL, NULL,
				   None_Receiver, NULL);
	CommandCounterIncrement();

	relid = RangeVarGetRelid(cstmt->base.relation, NoLock, false);
	foreach(lc, columns)
	{
		const CrColumnDef *col = lfirst(lc);

		CreateComments(relid, RelationRelationId, get_attnum(relid, col->name),
					   column_description(col));
	}
	CommandCounterIncrement();
	error_context_stack = errcb.previous;
}

List *
cr_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	bool		beta = false;
	bool		deprecated = import_include_deprecated(stmt);
	ListCell   *lc;
	int			i;

	if (strcmp(stmt->remote_schema, "callrecords") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("callrecords_fdw offers one remote schema: callrecords.")));

	foreach(lc, server->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "api_version") == 0)
			beta = strcmp(defGetString(def), "beta") == 0;
	}

	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);

		List	   *columns = NIL;
		char	   *cmd;

		if ((res->beta_only && !beta) || !IsImportableForeignTable(res->name, stmt))
			continue;
		cmd = create_table_command(stmt, server, res, beta, deprecated, &columns);
		create_commented_table(stmt, res, cmd, columns);
	}
	return NIL;					/* created above, with their comments */
}

/* How a resource is fetched, for documentation. */
static const char *
fetched_by(const CrResource *res)
{
	switch (res->fetch)
	{
		case CR_FETCH_RECORDS:
			return "GET /communications/callRecords (60 a page) or /callRecords/{id}";
		case CR_FETCH_RECORD_CHILDREN:
			return res->level == CR_LEVEL_PARTICIPANT ?
				"GET /callRecords/{id}?$expand=participants_v2, then participants_v2@odata.nextLink (130 a page)" :
				"GET /callRecords/{id}?$expand=sessions($expand=segments), then sessions@odata.nextLink (60 sessions a page)";
		case CR_FETCH_FUNCTION:
			return psprintf("GET /communications/callRecords/%s(fromDateTime=…,toDateTime=…) (1,000 a page, windows of at most 90 days)",
							res->function);
	}
	return "";
}

/* Which conditions narrow the requests, for documentation. */
static const char *
pushed_conditions(const CrResource *res)
{
	switch (res->fetch)
	{
		case CR_FETCH_RECORDS:
			return "id = / IN / = ANY (one GET per id); start_date_time < <= > >= ($filter)";
		case CR_FETCH_RECORD_CHILDREN:
			return "call_record_id = / IN / = ANY (required; one request chain per id)";
		case CR_FETCH_FUNCTION:
			if (res->window_column)
				return psprintf("%s < <= = >= > (fromDateTime/toDateTime; without a range, the last 90 days)",
								res->window_column);
			return "from_date_time =, to_date_time = (the report window; without them, the last 90 days)";
	}
	return "";
}

PG_FUNCTION_INFO_V1(callrecords_fdw_tables);
PG_FUNCTION_INFO_V1(callrecords_fdw_columns);

/*
 * callrecords_fdw_tables(): the tables of the catalogue, so that users
 * (and the README) can see what exists and how it is fetched.
 */
Datum
callrecords_fdw_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = CStringGetTextDatum(res->name);
		values[1] = CStringGetTextDatum(res->description);
		values[2] = CStringGetTextDatum(fetched_by(res));
		values[3] = CStringGetTextDatum(pushed_conditions(res));
		values[4] = BoolGetDatum(res->beta_only);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* The Graph type of a level's objects. */
static const char *
graph_type_name(CrLevel level)
{
	static const char *const names[CR_NUM_LEVELS] = {
		[CR_LEVEL_RECORD] = "callRecord",
		[CR_LEVEL_SESSION] = "session",
		[CR_LEVEL_SEGMENT] = "segment",
		[CR_LEVEL_MEDIA] = "media",
		[CR_LEVEL_STREAM] = "mediaStream",
		[CR_LEVEL_PARTICIPANT] = "participant",
		[CR_LEVEL_PSTN_CALL] = "pstnCallLogRow",
		[CR_LEVEL_DIRECT_ROUTING_CALL] = "directRoutingLogRow",
		[CR_LEVEL_SMS] = "smsLogRow",
		[CR_LEVEL_BLOCKED_USER] = "pstnBlockedUsersLogRow",
		[CR_LEVEL_DIALOUT_REPORT] = "pstnOnlineMeetingDialoutReport",
	};

	return names[level];
}

/* The Graph path of a column as documentation shows it. */
static char *
column_source(const CrColumnDef *col)
{
	switch (col->type)
	{
		case CR_GT_POSITION:
			return psprintf("position in %s (1-based)", cr_child_key(col->level));
		case CR_GT_RAW:
			return "the row's JSON object, without child collections";
		case CR_GT_WINDOW_FROM:
			return "fromDateTime of the request";
		case CR_GT_WINDOW_TO:
			return "toDateTime of the request";
		default:
			return psprintf("%s.%s", graph_type_name(col->level), col->path);
	}
}

/*
 * What a Graph property means, with its unit, by the last component of its
 * path (the column comments IMPORT FOREIGN SCHEMA sets, and the meaning
 * column of callrecords_fdw_columns()).  Sorted by name for bsearch; a
 * property Graph adds later without a line here is described by its source.
 */
typedef struct CrMeaning
{
	const char *leaf;
	const char *meaning;
} CrMeaning;

static const CrMeaning cr_meanings[] = {
	{"administrativeUnitInfos", "administrative units of the user, jsonb array of {id}"},
	{"applicationVersion", "version of the client application"},
	{"associatedIdentity", "identity of the endpoint, jsonb"},
	{"audioCodec", "audio codec"},
	{"averageAudioDegradation", "average network mean opinion score degradation of the audio (0 to 5)"},
	{"averageAudioNetworkJitter", "average audio network jitter (RFC 3550), interval"},
	{"averageBandwidthEstimate", "average bandwidth estimate, bits/s"},
	{"averageFreezeDuration", "average video freeze duration, interval"},
	{"averageJitter", "average jitter (RFC 3550), interval"},
	{"averagePacketLossRate", "average packet loss rate, ratio 0..1"},
	{"averageRatioOfConcealedSamples", "average ratio of audio samples concealed by loss healing, ratio 0..1"},
	{"averageReceivedFrameRate", "average video frame rate received, frames/s"},
	{"averageRoundTripTime", "average network round trip time, interval"},
	{"averageVideoFrameLossPercentage", "average video frame loss, percent"},
	{"averageVideoFrameRate", "average video frame rate sent, frames/s"},
	{"averageVideoPacketLossRate", "average video packet loss, ratio 0..1"},
	{"azureADAppId", "Entra app id of the client"},
	{"bandwidthLowEventRatio", "share of the call with low bandwidth, ratio 0..1"},
	{"basicServiceSetIdentifier", "Wi-Fi access point's BSSID"},
	{"blockDateTime", "time of the block or unblock"},
	{"blockReason", "why the user was blocked"},
	{"callCharge", "charge of the SMS, in currency"},
	{"callDurationSource", "who measured the duration (microsoft, operator)"},
	{"callEndSubReason", "Microsoft's sub-reason code for the call's end"},
	{"callId", "call id"},
	{"callType", "call type (e.g. user_in, conf_out, ByotIn)"},
	{"calleeNumber", "callee's number"},
	{"callerNumber", "caller's number"},
	{"captureDeviceDriver", "microphone (capture device) driver"},
	{"captureDeviceName", "microphone (capture device) name"},
	{"captureNotFunctioningEventRatio", "share of the call the microphone did not work, ratio 0..1"},
	{"charge", "charge of the call, in currency"},
	{"clientLocalIpV4Address", "local IPv4 address of the client"},
	{"clientLocalIpV6Address", "local IPv6 address of the client"},
	{"clientPublicIpV4Address", "public IPv4 address of the client"},
	{"clientPublicIpV6Address", "public IPv6 address of the client"},
	{"communicationServiceId", "Azure Communication Services resource id"},
	{"conferenceId", "audio conference id"},
	{"connectionCharge", "connection charge, in currency"},
	{"connectionType", "network connection type (wired, wifi, mobile, tunnel)"},
	{"correlationId", "correlation id of the call"},
	{"cpuCoresCount", "number of CPU cores"},
	{"cpuInsufficentEventRatio", "share of the call the CPU was insufficient, ratio 0..1"},
	{"cpuName", "CPU name"},
	{"cpuProcessorSpeedInMhz", "CPU clock speed, MHz"},
	{"currency", "currency of the charges (ISO 4217)"},
	{"delayEventRatio", "share of the call with high network delay, ratio 0..1"},
	{"destinationContext", "Domestic or International"},
	{"destinationName", "destination country or region"},
	{"destinationNumber", "recipient's number"},
	{"deviceClippingEventRatio", "share of the call with clipped microphone audio, ratio 0..1"},
	{"deviceGlitchEventRatio", "share of the call with device glitches, ratio 0..1"},
	{"displayName", "display name"},
	{"dnsSuffix", "DNS suffix of the network adapter"},
	{"duration", "duration of the call, seconds"},
	{"email", "email address of the guest"},
	{"endDateTime", "end time"},
	{"endpointType", "endpoint type (e.g. default, skypeForBusiness)"},
	{"failureDateTime", "time the call failed (NULL for a successful call)"},
	{"finalSipCode", "final SIP response code"},
	{"finalSipCodePhrase", "final SIP reason phrase"},
	{"fromDateTime", "start of the report's window"},
	{"headerValue", "user agent header the client sent"},
	{"howlingEventCount", "number of times howling (echo feedback) was detected"},
	{"id", "id (GUID; a user's Entra object id, or a phone number)"},
	{"identity", "identity set, jsonb"},
	{"initialSignalLevelRootMeanSquare", "root mean square of the incoming signal over the first 30 s of the call"},
	{"inventoryType", "number type (Subscriber, Service)"},
	{"inviteDateTime", "time of the SIP INVITE"},
	{"ipAddress", "local IP address"},
	{"isAudioForwardErrorCorrectionUsed", "audio forward error correction was used"},
	{"isTest", "a test session"},
	{"joinWebUrl", "meeting URL"},
	{"label", "media label (main-audio, main-video, applicationsharing-video)"},
	{"lastModifiedDateTime", "time of the record's current version"},
	{"licenseCapability", "license used for the call"},
	{"linkSpeed", "link speed of the network adapter, bits/s"},
	{"lowFrameRateRatio", "share of the call below 7.5 frames/s, ratio 0..1"},
	{"lowSpeechLevelEventRatio", "share of the call with a low speech level, ratio 0..1"},
	{"lowSpeechToNoiseEventRatio", "share of the call with a low speech-to-noise level, ratio 0..1"},
	{"lowVideoProcessingCapabilityRatio", "share of the call below 70 percent of the expected video processing capability, ratio 0..1"},
	{"macAddress", "MAC address of the network adapter"},
	{"maxAudioNetworkJitter", "maximum audio network jitter over 20-second windows, interval"},
	{"maxJitter", "maximum jitter, interval"},
	{"maxPacketLossRate", "maximum packet loss rate, ratio 0..1"},
	{"maxRatioOfConcealedSamples", "maximum ratio of concealed audio samples, ratio 0..1"},
	{"maxRoundTripTime", "maximum network round trip time, interval"},
	{"mediaBypassEnabled", "media bypass was enabled for the trunk"},
	{"mediaPathLocation", "data centre that carried the media"},
	{"micGlitchRate", "microphone glitches per 5 minutes"},
	{"modalities", "modalities (audio, video, screenSharing, ...)"},
	{"name", "device name of the endpoint"},
	{"networkTransportProtocol", "transport protocol (udp, tcp)"},
	{"operator", "telephony operator"},
	{"organizer", "organizer (identity set), jsonb"},
	{"otherPartyCountryCode", "country of the other party (ISO 3166-1 alpha-2)"},
	{"packetUtilization", "packets sent or received, count"},
	{"participants", "participants (identity sets), jsonb"},
	{"platform", "platform of the client (e.g. windows, macOS, android)"},
	{"port", "local port of the media"},
	{"postForwardErrorCorrectionPacketLossRate", "packet loss after forward error correction, ratio 0..1"},
	{"productFamily", "product family of the client (e.g. teams)"},
	{"rating", "feedback rating the user gave (e.g. good, poor, bad)"},
	{"reason", "why the call failed (free text)"},
	{"receivedNoiseLevel", "energy level of the received noise, dB"},
	{"receivedQualityEventRatio", "share of the call with poor received network quality, ratio 0..1"},
	{"receivedSignalLevel", "energy level of the received audio signal, dB"},
	{"reflexiveIPAddress", "public IP address as the relay saw it"},
	{"relayIPAddress", "IP address of the media relay"},
	{"relayPort", "port of the media relay"},
	{"remediationId", "id of the remediation"},
	{"renderDeviceDriver", "speaker (render device) driver"},
	{"renderDeviceName", "speaker (render device) name"},
	{"renderMuteEventRatio", "share of the call the speaker was muted, ratio 0..1"},
	{"renderNotFunctioningEventRatio", "share of the call the speaker did not work, ratio 0..1"},
	{"renderZeroVolumeEventRatio", "share of the call the speaker volume was zero, ratio 0..1"},
	{"rmsFreezeDuration", "root mean square of video freeze durations, interval"},
	{"role", "role of a service user agent (e.g. skypeForBusinessAudioVideoMcu)"},
	{"sentDateTime", "time the SMS was sent"},
	{"sentNoiseLevel", "energy level of the sent noise, dB"},
	{"sentQualityEventRatio", "share of the call with poor sent network quality, ratio 0..1"},
	{"sentSignalLevel", "energy level of the sent audio signal, dB"},
	{"signalingLocation", "data centre that handled the signalling"},
	{"smsId", "id of the message (not unique)"},
	{"smsType", "sms_in or sms_out"},
	{"smsUnits", "SMS units billed"},
	{"sourceNumber", "sender's number"},
	{"speakerGlitchRate", "speaker glitches per 5 minutes"},
	{"stage", "stage at which the call failed (callSetup, midcall)"},
	{"startDateTime", "start time"},
	{"streamDirection", "direction (callerToCallee, calleeToCaller)"},
	{"streamId", "id of the stream"},
	{"subnet", "subnet of the local IP address"},
	{"successfulCall", "the call succeeded"},
	{"tenantCountryCode", "country of the tenant (ISO 3166-1 alpha-2)"},
	{"tenantId", "tenant id (GUID) of the identity"},
	{"text", "feedback text the user typed"},
	{"toDateTime", "end of the report's window"},
	{"tokens", "feedback tokens (NoSound, Echo, ...: true when the user ticked them), jsonb"},
	{"totalCallCharge", "total charge of the calls, in currency"},
	{"totalCallSeconds", "total duration of the calls, seconds"},
	{"totalCalls", "number of dial-out calls"},
	{"traceRouteHops", "trace-route hops ({hopCount, ipAddress, roundTripTime}), jsonb; empty unless Microsoft support enables them"},
	{"transferorCorrelationId", "correlation id of the call that transferred this one"},
	{"trunkFullyQualifiedDomainName", "FQDN of the SBC trunk"},
	{"type", "call type (groupCall, peerToPeer, unknown)"},
	{"usageCountryCode", "country where the call was made (ISO 3166-1 alpha-2)"},
	{"usageLocation", "usage location of the organizer (country code)"},
	{"userBlockMode", "Blocked or Unblocked"},
	{"userCountryCode", "country of the user (ISO 3166-1 alpha-2)"},
	{"userDisplayName", "user's display name"},
	{"userId", "user id (Entra object id)"},
	{"userPrincipalName", "user principal name (sign-in name)"},
	{"userTelephoneNumber", "telephone number of the user"},
	{"version", "version of the call record; rises when Graph adds late data"},
	{"videoCodec", "video codec"},
	{"wasMediaBypassed", "the media bypassed the mediation server"},
	{"wifiBand", "Wi-Fi band (e.g. frequency50GHz)"},
	{"wifiBatteryCharge", "battery charge, percent"},
	{"wifiChannel", "Wi-Fi channel"},
	{"wifiMicrosoftDriver", "Microsoft's Wi-Fi driver"},
	{"wifiMicrosoftDriverVersion", "version of Microsoft's Wi-Fi driver"},
	{"wifiRadioType", "Wi-Fi radio type (e.g. wifi80211ax)"},
	{"wifiSignalStrength", "Wi-Fi signal strength, percent"},
	{"wifiVendorDriver", "Wi-Fi driver from the vendor"},
	{"wifiVendorDriverVersion", "version of the Wi-Fi driver from the vendor"},
};

static int
meaning_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, ((const CrMeaning *) entry)->leaf);
}

/*
 * What a column means, with its unit, and where it comes from in Graph:
 * its comment, shown by \d+.  A key column says what it joins on.
 */
static char *
column_description(const CrColumnDef *col)
{
	const char *leaf;
	const CrMeaning *m;
	char	   *text;

	switch (col->type)
	{
		case CR_GT_POSITION:
			return psprintf("key: %s, in Graph's order", column_source(col));
		case CR_GT_RAW:
			return "the row's JSON object as Graph sent it, without child collections, jsonb";
		case CR_GT_ODATA_TYPE:
			return psprintf("kind of %s (its @odata.type without namespace). Graph: %s",
							strstr(col->path, "userAgent") ? "user agent: clientUserAgent or serviceUserAgent" :
							"endpoint: participantEndpoint or serviceEndpoint",
							column_source(col));
		default:
			break;
	}
	if (col->path == NULL)
		leaf = col->type == CR_GT_WINDOW_FROM ? "fromDateTime" : "toDateTime";
	else
		leaf = strrchr(col->path, '.') ? strrchr(col->path, '.') + 1 : col->path;
	if (col->path && strcmp(col->path, "id") == 0)
		text = psprintf("id of the %s", graph_type_name(col->level));
	else if ((m = bsearch(leaf, cr_meanings, lengthof(cr_meanings), sizeof(CrMeaning),
						  meaning_cmp)) != NULL)
		text = pstrdup(m->meaning);
	else
		text = "Graph property";
	if (is_deprecated(col))
		text = psprintf("%s; deprecated by Graph, no data after 2026-06-30", text);
	if (col->type == CR_GT_WINDOW_FROM || col->type == CR_GT_WINDOW_TO)
		return psprintf("%s (%s)", text, column_source(col));
	return psprintf("%s. Graph: %s", text, column_source(col));
}

/*
 * callrecords_fdw_columns(): every column of every table, with its type,
 * the Graph property it comes from and what it means.
 */
Datum
callrecords_fdw_columns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);
		ListCell   *lc;

		foreach(lc, cr_resource_columns(res))
		{
			const CrColumnDef *col = lfirst(lc);
			Datum		values[7];
			bool		nulls[7] = {0};

			values[0] = CStringGetTextDatum(res->name);
			values[1] = Int32GetDatum(foreach_current_index(lc) + 1);
			values[2] = CStringGetTextDatum(col->name);
			values[3] = CStringGetTextDatum(cr_pg_type_name(col->type));
			values[4] = CStringGetTextDatum(column_source(col));
			values[5] = BoolGetDatum(col->beta_only || res->beta_only);
			values[6] = CStringGetTextDatum(column_description(col));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
