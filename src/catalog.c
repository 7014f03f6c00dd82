/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The one declaration of which Graph properties become which columns.
 *
 * Every table of callrecords_fdw is described here once: the scan resolves
 * column names against it, and IMPORT FOREIGN SCHEMA generates its CREATE
 * FOREIGN TABLE statements from it.  Adding a property that Graph ships
 * later is one line in the property table of its object.
 *
 * Column names are derived from the Graph property path by the naming rule
 * (each camelCase path component to snake_case, components joined by "_"),
 * unless the entry gives a name of its own.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "callrecords_fdw.h"

#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* A property of a Graph object, or a key column copied from an ancestor. */
typedef struct CrPropertyDef
{
	CrLevel		level;			/* object the path starts from */
	const char *path;
	CrGraphType type;
	const char *name;			/* NULL: derived from path */
	CrLevel		first_table;	/* tables of these levels carry it */
	CrLevel		last_table;
} CrPropertyDef;

#define KEY(lvl, path, type, name, first) \
	{lvl, path, type, name, first, CR_LEVEL_STREAM}
#define PROP(lvl, path, type) {lvl, path, type, NULL, lvl, lvl}
#define PROPN(lvl, path, type, name) {lvl, path, type, name, lvl, lvl}

/* Properties of an endpoint (participantEndpoint or serviceEndpoint). */
#define ENDPOINT_PROPS(lvl, side) \
	PROPN(lvl, side ".@odata.type", CR_GT_ODATA_TYPE, side "_endpoint_type"), \
	PROP(lvl, side ".name", CR_GT_STRING), \
	PROP(lvl, side ".cpuName", CR_GT_STRING), \
	PROP(lvl, side ".cpuCoresCount", CR_GT_INT32), \
	PROP(lvl, side ".cpuProcessorSpeedInMhz", CR_GT_INT32), \
	PROPN(lvl, side ".userAgent.@odata.type", CR_GT_ODATA_TYPE, side "_user_agent_type"), \
	PROP(lvl, side ".userAgent.headerValue", CR_GT_STRING), \
	PROP(lvl, side ".userAgent.applicationVersion", CR_GT_STRING), \
	PROP(lvl, side ".userAgent.platform", CR_GT_ENUM), \
	PROP(lvl, side ".userAgent.productFamily", CR_GT_ENUM), \
	PROP(lvl, side ".userAgent.azureADAppId", CR_GT_STRING), \
	PROP(lvl, side ".userAgent.communicationServiceId", CR_GT_STRING), \
	PROP(lvl, side ".userAgent.role", CR_GT_ENUM), \
	PROP(lvl, side ".associatedIdentity.id", CR_GT_STRING), \
	PROP(lvl, side ".associatedIdentity.displayName", CR_GT_STRING), \
	PROP(lvl, side ".associatedIdentity.tenantId", CR_GT_STRING), \
	PROP(lvl, side ".associatedIdentity.userPrincipalName", CR_GT_STRING), \
	PROP(lvl, side ".associatedIdentity", CR_GT_JSON), \
	PROP(lvl, side ".feedback.rating", CR_GT_ENUM), \
	PROP(lvl, side ".feedback.text", CR_GT_STRING), \
	PROP(lvl, side ".feedback.tokens", CR_GT_JSON), \
	PROP(lvl, side ".identity", CR_GT_JSON)

#define FAILURE_PROPS(lvl) \
	PROP(lvl, "failureInfo.stage", CR_GT_ENUM), \
	PROP(lvl, "failureInfo.reason", CR_GT_STRING)

/* Properties of a deviceInfo. */
#define DEVICE_PROPS(side) \
	PROP(CR_LEVEL_MEDIA, side ".captureDeviceName", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".captureDeviceDriver", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".renderDeviceName", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".renderDeviceDriver", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".captureNotFunctioningEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".cpuInsufficentEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".deviceClippingEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".deviceGlitchEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".howlingEventCount", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".initialSignalLevelRootMeanSquare", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".lowSpeechLevelEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".lowSpeechToNoiseEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".micGlitchRate", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".speakerGlitchRate", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".receivedNoiseLevel", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".receivedSignalLevel", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".sentNoiseLevel", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".sentSignalLevel", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".renderMuteEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".renderNotFunctioningEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".renderZeroVolumeEventRatio", CR_GT_SINGLE)

/* Properties of a networkInfo. */
#define NETWORK_PROPS(side) \
	PROP(CR_LEVEL_MEDIA, side ".ipAddress", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".subnet", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".reflexiveIPAddress", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".relayIPAddress", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".relayPort", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".port", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".macAddress", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".dnsSuffix", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".linkSpeed", CR_GT_INT64), \
	PROP(CR_LEVEL_MEDIA, side ".connectionType", CR_GT_ENUM), \
	PROP(CR_LEVEL_MEDIA, side ".networkTransportProtocol", CR_GT_ENUM), \
	PROP(CR_LEVEL_MEDIA, side ".basicServiceSetIdentifier", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".bandwidthLowEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".delayEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".receivedQualityEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".sentQualityEventRatio", CR_GT_SINGLE), \
	PROP(CR_LEVEL_MEDIA, side ".wifiBand", CR_GT_ENUM), \
	PROP(CR_LEVEL_MEDIA, side ".wifiRadioType", CR_GT_ENUM), \
	PROP(CR_LEVEL_MEDIA, side ".wifiChannel", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".wifiSignalStrength", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".wifiBatteryCharge", CR_GT_INT32), \
	PROP(CR_LEVEL_MEDIA, side ".wifiMicrosoftDriver", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".wifiMicrosoftDriverVersion", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".wifiVendorDriver", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".wifiVendorDriverVersion", CR_GT_STRING), \
	PROP(CR_LEVEL_MEDIA, side ".traceRouteHops", CR_GT_JSON)

/*
 * Every column, in table order: first the keys of the ancestors (each
 * carried by the tables from first_table down), then each object's own
 * properties in the order of the Graph schema.
 */
static const CrPropertyDef cr_properties[] = {
	KEY(CR_LEVEL_RECORD, "id", CR_GT_STRING, "call_record_id", CR_LEVEL_SESSION),
	KEY(CR_LEVEL_SESSION, NULL, CR_GT_POSITION, "session_index", CR_LEVEL_SESSION),
	KEY(CR_LEVEL_SEGMENT, NULL, CR_GT_POSITION, "segment_index", CR_LEVEL_SEGMENT),
	KEY(CR_LEVEL_MEDIA, NULL, CR_GT_POSITION, "media_index", CR_LEVEL_MEDIA),
	KEY(CR_LEVEL_STREAM, NULL, CR_GT_POSITION, "stream_index", CR_LEVEL_STREAM),
	KEY(CR_LEVEL_SESSION, "id", CR_GT_STRING, "session_id", CR_LEVEL_SEGMENT),
	KEY(CR_LEVEL_SEGMENT, "id", CR_GT_STRING, "segment_id", CR_LEVEL_MEDIA),
	KEY(CR_LEVEL_MEDIA, "label", CR_GT_STRING, "media_label", CR_LEVEL_STREAM),
	KEY(CR_LEVEL_RECORD, "startDateTime", CR_GT_DATETIME, "call_start_date_time",
		CR_LEVEL_SESSION),

	/* session */
	PROP(CR_LEVEL_SESSION, "id", CR_GT_STRING),
	PROP(CR_LEVEL_SESSION, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SESSION, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SESSION, "modalities", CR_GT_ENUM_COLLECTION),
	PROP(CR_LEVEL_SESSION, "isTest", CR_GT_BOOLEAN),
	FAILURE_PROPS(CR_LEVEL_SESSION),
	ENDPOINT_PROPS(CR_LEVEL_SESSION, "caller"),
	ENDPOINT_PROPS(CR_LEVEL_SESSION, "callee"),

	/* segment */
	PROP(CR_LEVEL_SEGMENT, "id", CR_GT_STRING),
	PROP(CR_LEVEL_SEGMENT, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SEGMENT, "endDateTime", CR_GT_DATETIME),
	FAILURE_PROPS(CR_LEVEL_SEGMENT),
	ENDPOINT_PROPS(CR_LEVEL_SEGMENT, "caller"),
	ENDPOINT_PROPS(CR_LEVEL_SEGMENT, "callee"),

	/* media */
	PROP(CR_LEVEL_MEDIA, "label", CR_GT_STRING),
	DEVICE_PROPS("callerDevice"),
	DEVICE_PROPS("calleeDevice"),
	NETWORK_PROPS("callerNetwork"),
	NETWORK_PROPS("calleeNetwork"),

	/* mediaStream */
	PROP(CR_LEVEL_STREAM, "streamId", CR_GT_STRING),
	PROP(CR_LEVEL_STREAM, "streamDirection", CR_GT_ENUM),
	PROP(CR_LEVEL_STREAM, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_STREAM, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_STREAM, "audioCodec", CR_GT_ENUM),
	PROP(CR_LEVEL_STREAM, "videoCodec", CR_GT_ENUM),
	PROP(CR_LEVEL_STREAM, "averageAudioDegradation", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageAudioNetworkJitter", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "maxAudioNetworkJitter", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "averageJitter", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "maxJitter", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "averagePacketLossRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "maxPacketLossRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageRatioOfConcealedSamples", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "maxRatioOfConcealedSamples", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageRoundTripTime", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "maxRoundTripTime", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "averageBandwidthEstimate", CR_GT_INT64),
	PROP(CR_LEVEL_STREAM, "packetUtilization", CR_GT_INT64),
	PROP(CR_LEVEL_STREAM, "postForwardErrorCorrectionPacketLossRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "isAudioForwardErrorCorrectionUsed", CR_GT_BOOLEAN),
	PROP(CR_LEVEL_STREAM, "wasMediaBypassed", CR_GT_BOOLEAN),
	PROP(CR_LEVEL_STREAM, "averageReceivedFrameRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageVideoFrameRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageVideoFrameLossPercentage", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageVideoPacketLossRate", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "averageFreezeDuration", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "rmsFreezeDuration", CR_GT_DURATION),
	PROP(CR_LEVEL_STREAM, "lowFrameRateRatio", CR_GT_SINGLE),
	PROP(CR_LEVEL_STREAM, "lowVideoProcessingCapabilityRatio", CR_GT_SINGLE),
};

static const CrResource cr_resources[] = {
	{"sessions", CR_LEVEL_SESSION,
	"one row per session of a call record (caller/callee endpoints, failure info)"},
	{"segments", CR_LEVEL_SEGMENT,
	"one row per segment of a session"},
	{"media", CR_LEVEL_MEDIA,
	"one row per media of a segment (devices and networks of both sides)"},
	{"streams", CR_LEVEL_STREAM,
	"one row per media stream (jitter, packet loss, round-trip time, ...)"},
};

/* Column lists, built once per backend from cr_properties. */
static List *cr_columns_cache[lengthof(cr_resources)];

/*
 * The naming rule: "userAgent" -> "user_agent", "reflexiveIPAddress" ->
 * "reflexive_ip_address", "caller.userAgent.platform" ->
 * "caller_user_agent_platform".  An "@odata.type" component keeps its dot
 * out of the name ("odata_type").
 */
static char *
snake_case(const char *path)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = path; *p; p++)
	{
		char		c = *p;

		if (c == '.' || c == '@')
		{
			if (buf.len > 0 && buf.data[buf.len - 1] != '_')
				appendStringInfoChar(&buf, '_');
			continue;
		}
		if (isupper((unsigned char) c) && p > path)
		{
			char		prev = p[-1];
			char		next = p[1];

			if (islower((unsigned char) prev) || isdigit((unsigned char) prev) ||
				(isupper((unsigned char) prev) && islower((unsigned char) next)))
			{
				if (buf.data[buf.len - 1] != '_')
					appendStringInfoChar(&buf, '_');
			}
		}
		appendStringInfoChar(&buf, tolower((unsigned char) c));
	}
	return buf.data;
}

const CrResource *
cr_find_resource(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(cr_resources); i++)
		if (strcmp(cr_resources[i].name, name) == 0)
			return &cr_resources[i];
	return NULL;
}

/* For hints: "sessions, segments, media, streams". */
char *
cr_resource_names(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < (int) lengthof(cr_resources); i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", cr_resources[i].name);
	return buf.data;
}

/*
 * The columns of a resource as a List of CrColumnDef, in table order.
 * Built in TopMemoryContext on first use because both the scan (per query)
 * and IMPORT FOREIGN SCHEMA need it and it never changes.
 */
List *
cr_resource_columns(const CrResource *res)
{
	int			slot = res - cr_resources;
	MemoryContext oldcxt;
	List	   *cols = NIL;
	int			i;

	if (cr_columns_cache[slot] != NIL)
		return cr_columns_cache[slot];

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	for (i = 0; i < (int) lengthof(cr_properties); i++)
	{
		const CrPropertyDef *p = &cr_properties[i];
		CrColumnDef *col;

		if (res->level < p->first_table || res->level > p->last_table)
			continue;
		col = palloc(sizeof(CrColumnDef));
		col->name = p->name ? p->name : snake_case(p->path);
		col->level = p->level;
		col->path = p->path;
		col->type = p->type;
		cols = lappend(cols, col);
	}
	MemoryContextSwitchTo(oldcxt);

	cr_columns_cache[slot] = cols;
	return cols;
}

const CrColumnDef *
cr_find_column(const CrResource *res, const char *name)
{
	ListCell   *lc;

	foreach(lc, cr_resource_columns(res))
	{
		const CrColumnDef *col = lfirst(lc);

		if (strcmp(col->name, name) == 0)
			return col;
	}
	return NULL;
}

/* The PostgreSQL type a Graph type maps to (fact sheet §2.1). */
const char *
cr_pg_type_name(CrGraphType type)
{
	switch (type)
	{
		case CR_GT_STRING:
		case CR_GT_ENUM:
		case CR_GT_ODATA_TYPE:
			return "text";
		case CR_GT_DATETIME:
			return "timestamp with time zone";
		case CR_GT_DURATION:
			return "interval";
		case CR_GT_INT32:
		case CR_GT_POSITION:
			return "integer";
		case CR_GT_INT64:
			return "bigint";
		case CR_GT_SINGLE:
			return "double precision";
		case CR_GT_BOOLEAN:
			return "boolean";
		case CR_GT_ENUM_COLLECTION:
			return "text[]";
		case CR_GT_JSON:
			return "jsonb";
	}
	return "text";				/* keep compiler quiet */
}

/*
 * IMPORT FOREIGN SCHEMA callrecords: one CREATE FOREIGN TABLE per resource,
 * straight from the catalogue, so imported tables always match what the
 * scan understands.
 */
List *
cr_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *commands = NIL;
	int			i;

	if (strcmp(stmt->remote_schema, "callrecords") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("callrecords_fdw offers one remote schema: callrecords.")));

	for (i = 0; i < (int) lengthof(cr_resources); i++)
	{
		const CrResource *res = &cr_resources[i];
		StringInfoData buf;
		ListCell   *lc;
		bool		first = true;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n",
						 quote_qualified_identifier(stmt->local_schema, res->name));
		foreach(lc, cr_resource_columns(res))
		{
			const CrColumnDef *col = lfirst(lc);

			appendStringInfo(&buf, "%s  %s %s", first ? "" : ",\n",
							 quote_identifier(col->name),
							 cr_pg_type_name(col->type));
			first = false;
		}
		appendStringInfo(&buf, "\n) SERVER %s OPTIONS (resource %s)",
						 quote_identifier(server->servername),
						 quote_literal_cstr(res->name));
		commands = lappend(commands, buf.data);
	}
	return commands;
}
