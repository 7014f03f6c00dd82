/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The one declaration of which Graph properties become which columns.
 *
 * Every table of callrecords_fdw is described here once, with the facts of
 * each table (its key and time columns, page size): the scan resolves
 * column names against it, and IMPORT FOREIGN SCHEMA (import.c) generates
 * its CREATE FOREIGN TABLE statements from it.  Adding a property that Graph ships
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

#include "cr_common.h"

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/*
 * A property of a Graph object, or a key column copied from an ancestor.
 * tables is the set of table levels that carry the column (a bit per
 * CrLevel); a property carries only its own level.
 */
typedef struct CrPropertyDef
{
	CrLevel		level;			/* object the path starts from */
	const char *path;
	CrGraphType type;
	const char *name;			/* NULL: derived from path */
	uint32		tables;
	bool		beta_only;		/* only with api_version 'beta' */
} CrPropertyDef;

#define LV(l) (1U << (l))
#define TREE_BELOW_RECORD (LV(CR_LEVEL_SESSION) | LV(CR_LEVEL_SEGMENT) | \
						   LV(CR_LEVEL_MEDIA) | LV(CR_LEVEL_STREAM))
#define KEY(lvl, path, type, name, tables) {lvl, path, type, name, tables, false}
#define PROP(lvl, path, type) {lvl, path, type, NULL, LV(lvl), false}
#define PROPN(lvl, path, type, name) {lvl, path, type, name, LV(lvl), false}
#define BETA(lvl, path, type) {lvl, path, type, NULL, LV(lvl), true}

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

/*
 * A communicationsIdentitySet, flattened for the identities a call record
 * names in practice; the whole set is kept as jsonb beside them.
 */
#define IDENTITY_SET_PROPS(lvl, set) \
	PROP(lvl, set ".user.id", CR_GT_STRING), \
	PROP(lvl, set ".user.displayName", CR_GT_STRING), \
	PROP(lvl, set ".user.tenantId", CR_GT_STRING), \
	PROP(lvl, set ".user.userPrincipalName", CR_GT_STRING), \
	PROP(lvl, set ".phone.id", CR_GT_STRING), \
	PROP(lvl, set ".phone.displayName", CR_GT_STRING), \
	PROP(lvl, set ".guest.id", CR_GT_STRING), \
	PROP(lvl, set ".guest.displayName", CR_GT_STRING), \
	PROP(lvl, set ".guest.email", CR_GT_STRING), \
	PROP(lvl, set ".application.id", CR_GT_STRING), \
	PROP(lvl, set ".application.displayName", CR_GT_STRING), \
	PROP(lvl, set ".applicationInstance.id", CR_GT_STRING), \
	PROP(lvl, set ".applicationInstance.displayName", CR_GT_STRING), \
	PROP(lvl, set ".applicationInstance.tenantId", CR_GT_STRING), \
	PROP(lvl, set ".endpointType", CR_GT_ENUM), \
	PROP(lvl, set, CR_GT_JSON)

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

/* callLogRow (beta base type of the PSTN, direct routing and SMS rows) */
#define CALL_LOG_ROW_BETA_PROPS(lvl) \
	BETA(lvl, "otherPartyCountryCode", CR_GT_STRING), \
	BETA(lvl, "administrativeUnitInfos", CR_GT_JSON)

/* Every table carries the JSON of its row object as "raw". */
#define RAW(lvl) PROPN(lvl, NULL, CR_GT_RAW, "raw")

/*
 * Every column, in table order: first the keys of the ancestors, then each
 * object's own properties in the order Graph's schema declares them, then
 * "raw".
 */
static const CrPropertyDef cr_properties[] = {
	KEY(CR_LEVEL_RECORD, "id", CR_GT_STRING, "call_record_id",
		TREE_BELOW_RECORD | LV(CR_LEVEL_PARTICIPANT)),
	KEY(CR_LEVEL_SESSION, NULL, CR_GT_POSITION, "session_index", TREE_BELOW_RECORD),
	KEY(CR_LEVEL_SEGMENT, NULL, CR_GT_POSITION, "segment_index",
		LV(CR_LEVEL_SEGMENT) | LV(CR_LEVEL_MEDIA) | LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_MEDIA, NULL, CR_GT_POSITION, "media_index",
		LV(CR_LEVEL_MEDIA) | LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_STREAM, NULL, CR_GT_POSITION, "stream_index", LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_PARTICIPANT, NULL, CR_GT_POSITION, "participant_index",
		LV(CR_LEVEL_PARTICIPANT)),
	KEY(CR_LEVEL_SESSION, "id", CR_GT_STRING, "session_id",
		LV(CR_LEVEL_SEGMENT) | LV(CR_LEVEL_MEDIA) | LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_SEGMENT, "id", CR_GT_STRING, "segment_id",
		LV(CR_LEVEL_MEDIA) | LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_MEDIA, "label", CR_GT_STRING, "media_label", LV(CR_LEVEL_STREAM)),
	KEY(CR_LEVEL_RECORD, "startDateTime", CR_GT_DATETIME, "call_start_date_time",
		TREE_BELOW_RECORD | LV(CR_LEVEL_PARTICIPANT)),

	/* callRecord */
	PROP(CR_LEVEL_RECORD, "id", CR_GT_STRING),
	PROP(CR_LEVEL_RECORD, "version", CR_GT_INT64),
	PROP(CR_LEVEL_RECORD, "type", CR_GT_ENUM),
	PROP(CR_LEVEL_RECORD, "modalities", CR_GT_ENUM_COLLECTION),
	PROP(CR_LEVEL_RECORD, "lastModifiedDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_RECORD, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_RECORD, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_RECORD, "joinWebUrl", CR_GT_STRING),
	PROP(CR_LEVEL_RECORD, "organizer_v2.id", CR_GT_STRING),
	IDENTITY_SET_PROPS(CR_LEVEL_RECORD, "organizer_v2.identity"),
	PROP(CR_LEVEL_RECORD, "organizer_v2.administrativeUnitInfos", CR_GT_JSON),
	PROP(CR_LEVEL_RECORD, "organizer", CR_GT_JSON),
	PROP(CR_LEVEL_RECORD, "participants", CR_GT_JSON),
	RAW(CR_LEVEL_RECORD),

	/* participant (participants_v2) */
	PROP(CR_LEVEL_PARTICIPANT, "id", CR_GT_STRING),
	IDENTITY_SET_PROPS(CR_LEVEL_PARTICIPANT, "identity"),
	PROP(CR_LEVEL_PARTICIPANT, "administrativeUnitInfos", CR_GT_JSON),
	RAW(CR_LEVEL_PARTICIPANT),

	/* session */
	PROP(CR_LEVEL_SESSION, "id", CR_GT_STRING),
	PROP(CR_LEVEL_SESSION, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SESSION, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SESSION, "modalities", CR_GT_ENUM_COLLECTION),
	PROP(CR_LEVEL_SESSION, "isTest", CR_GT_BOOLEAN),
	FAILURE_PROPS(CR_LEVEL_SESSION),
	ENDPOINT_PROPS(CR_LEVEL_SESSION, "caller"),
	ENDPOINT_PROPS(CR_LEVEL_SESSION, "callee"),
	RAW(CR_LEVEL_SESSION),

	/* segment */
	PROP(CR_LEVEL_SEGMENT, "id", CR_GT_STRING),
	PROP(CR_LEVEL_SEGMENT, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SEGMENT, "endDateTime", CR_GT_DATETIME),
	FAILURE_PROPS(CR_LEVEL_SEGMENT),
	ENDPOINT_PROPS(CR_LEVEL_SEGMENT, "caller"),
	ENDPOINT_PROPS(CR_LEVEL_SEGMENT, "callee"),
	RAW(CR_LEVEL_SEGMENT),

	/* media */
	PROP(CR_LEVEL_MEDIA, "label", CR_GT_STRING),
	DEVICE_PROPS("callerDevice"),
	DEVICE_PROPS("calleeDevice"),
	NETWORK_PROPS("callerNetwork"),
	NETWORK_PROPS("calleeNetwork"),
	RAW(CR_LEVEL_MEDIA),

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
	RAW(CR_LEVEL_STREAM),

	/* pstnCallLogRow */
	PROP(CR_LEVEL_PSTN_CALL, "id", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "callId", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "userId", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "userPrincipalName", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "userDisplayName", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_PSTN_CALL, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_PSTN_CALL, "duration", CR_GT_INT32),
	PROP(CR_LEVEL_PSTN_CALL, "charge", CR_GT_DECIMAL),
	PROP(CR_LEVEL_PSTN_CALL, "connectionCharge", CR_GT_DECIMAL),
	PROP(CR_LEVEL_PSTN_CALL, "currency", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "callType", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "calleeNumber", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "callerNumber", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "destinationContext", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "destinationName", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "conferenceId", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "licenseCapability", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "inventoryType", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "operator", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "callDurationSource", CR_GT_ENUM),
	PROP(CR_LEVEL_PSTN_CALL, "tenantCountryCode", CR_GT_STRING),
	PROP(CR_LEVEL_PSTN_CALL, "usageCountryCode", CR_GT_STRING),
	CALL_LOG_ROW_BETA_PROPS(CR_LEVEL_PSTN_CALL),
	BETA(CR_LEVEL_PSTN_CALL, "clientLocalIpV4Address", CR_GT_STRING),
	BETA(CR_LEVEL_PSTN_CALL, "clientLocalIpV6Address", CR_GT_STRING),
	BETA(CR_LEVEL_PSTN_CALL, "clientPublicIpV4Address", CR_GT_STRING),
	BETA(CR_LEVEL_PSTN_CALL, "clientPublicIpV6Address", CR_GT_STRING),
	RAW(CR_LEVEL_PSTN_CALL),

	/* directRoutingLogRow */
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "id", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "correlationId", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "userId", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "userPrincipalName", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "userDisplayName", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "startDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "inviteDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "failureDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "endDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "duration", CR_GT_INT32),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "callType", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "successfulCall", CR_GT_BOOLEAN),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "callerNumber", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "calleeNumber", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "mediaPathLocation", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "signalingLocation", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "finalSipCode", CR_GT_INT32),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "callEndSubReason", CR_GT_INT32),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "finalSipCodePhrase", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "trunkFullyQualifiedDomainName", CR_GT_STRING),
	PROP(CR_LEVEL_DIRECT_ROUTING_CALL, "mediaBypassEnabled", CR_GT_BOOLEAN),
	BETA(CR_LEVEL_DIRECT_ROUTING_CALL, "userCountryCode", CR_GT_STRING),
	BETA(CR_LEVEL_DIRECT_ROUTING_CALL, "transferorCorrelationId", CR_GT_STRING),
	CALL_LOG_ROW_BETA_PROPS(CR_LEVEL_DIRECT_ROUTING_CALL),
	RAW(CR_LEVEL_DIRECT_ROUTING_CALL),

	/* smsLogRow (beta) */
	PROP(CR_LEVEL_SMS, "id", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "smsId", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "sentDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_SMS, "userId", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "userDisplayName", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "userPrincipalName", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "callCharge", CR_GT_DECIMAL),
	PROP(CR_LEVEL_SMS, "currency", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "smsType", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "smsUnits", CR_GT_INT32),
	PROP(CR_LEVEL_SMS, "sourceNumber", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "destinationNumber", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "destinationContext", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "destinationName", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "licenseCapability", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "tenantCountryCode", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "userCountryCode", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "otherPartyCountryCode", CR_GT_STRING),
	PROP(CR_LEVEL_SMS, "administrativeUnitInfos", CR_GT_JSON),
	RAW(CR_LEVEL_SMS),

	/* pstnBlockedUsersLogRow (beta) */
	PROP(CR_LEVEL_BLOCKED_USER, "blockDateTime", CR_GT_DATETIME),
	PROP(CR_LEVEL_BLOCKED_USER, "blockReason", CR_GT_STRING),
	PROP(CR_LEVEL_BLOCKED_USER, "remediationId", CR_GT_STRING),
	PROP(CR_LEVEL_BLOCKED_USER, "userBlockMode", CR_GT_ENUM),
	PROP(CR_LEVEL_BLOCKED_USER, "userId", CR_GT_STRING),
	PROP(CR_LEVEL_BLOCKED_USER, "userDisplayName", CR_GT_STRING),
	PROP(CR_LEVEL_BLOCKED_USER, "userPrincipalName", CR_GT_STRING),
	PROP(CR_LEVEL_BLOCKED_USER, "userTelephoneNumber", CR_GT_STRING),
	RAW(CR_LEVEL_BLOCKED_USER),

	/* pstnOnlineMeetingDialoutReport (beta): aggregates over the window */
	PROPN(CR_LEVEL_DIALOUT_REPORT, NULL, CR_GT_WINDOW_FROM, "from_date_time"),
	PROPN(CR_LEVEL_DIALOUT_REPORT, NULL, CR_GT_WINDOW_TO, "to_date_time"),
	PROP(CR_LEVEL_DIALOUT_REPORT, "userId", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "userDisplayName", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "userPrincipalName", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "usageLocation", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "destinationContext", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "currency", CR_GT_STRING),
	PROP(CR_LEVEL_DIALOUT_REPORT, "totalCalls", CR_GT_INT32),
	PROP(CR_LEVEL_DIALOUT_REPORT, "totalCallSeconds", CR_GT_INT32),
	PROP(CR_LEVEL_DIALOUT_REPORT, "totalCallCharge", CR_GT_DECIMAL),
	RAW(CR_LEVEL_DIALOUT_REPORT),
};

/*
 * The tables.  The window column is the one whose range becomes the
 * fromDateTime/toDateTime of a log function; to_inclusive says whether
 * that function's toDateTime includes its end.
 */
static const CrResource cr_resources[] = {
	{"call_records", CR_LEVEL_RECORD, CR_FETCH_RECORDS, NULL, NULL, false, false,
	"One row per call record (organizer, times, modalities, version)"},
	{"participants", CR_LEVEL_PARTICIPANT, CR_FETCH_RECORD_CHILDREN, NULL, NULL, false, false,
	"One row per participant of a call record (participants_v2)"},
	{"sessions", CR_LEVEL_SESSION, CR_FETCH_RECORD_CHILDREN, NULL, NULL, false, false,
	"One row per session of a call record (caller/callee endpoints, failure info)"},
	{"segments", CR_LEVEL_SEGMENT, CR_FETCH_RECORD_CHILDREN, NULL, NULL, false, false,
	"One row per segment of a session"},
	{"media", CR_LEVEL_MEDIA, CR_FETCH_RECORD_CHILDREN, NULL, NULL, false, false,
	"One row per media of a segment (devices and networks of both sides)"},
	{"streams", CR_LEVEL_STREAM, CR_FETCH_RECORD_CHILDREN, NULL, NULL, false, false,
	"One row per media stream (jitter, packet loss, round-trip time, ...)"},
	{"pstn_calls", CR_LEVEL_PSTN_CALL, CR_FETCH_FUNCTION, "getPstnCalls",
		"start_date_time", true, false,
	"One row per PSTN (calling plan, Operator Connect) call"},
	{"direct_routing_calls", CR_LEVEL_DIRECT_ROUTING_CALL, CR_FETCH_FUNCTION,
		"getDirectRoutingCalls", "start_date_time", false, false,
	"One row per direct routing call"},
	{"sms_log", CR_LEVEL_SMS, CR_FETCH_FUNCTION, "getSmsLog",
		"sent_date_time", true, true,
	"One row per SMS (beta)"},
	{"pstn_blocked_users", CR_LEVEL_BLOCKED_USER, CR_FETCH_FUNCTION,
		"getPstnBlockedUsersLog", "block_date_time", true, true,
	"One row per block or unblock of a user's PSTN calling (beta)"},
	{"pstn_online_meeting_dialout_report", CR_LEVEL_DIALOUT_REPORT, CR_FETCH_FUNCTION,
		"getPstnOnlineMeetingDialoutReport", NULL, true, true,
	"Dial-out usage of online meetings per organizer, location, destination and currency (beta)"},
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

/* The object a level's objects are nested in, or CR_NO_LEVEL. */
CrLevel
cr_parent_level(CrLevel level)
{
	switch (level)
	{
		case CR_LEVEL_SESSION:
		case CR_LEVEL_PARTICIPANT:
			return CR_LEVEL_RECORD;
		case CR_LEVEL_SEGMENT:
			return CR_LEVEL_SESSION;
		case CR_LEVEL_MEDIA:
			return CR_LEVEL_SEGMENT;
		case CR_LEVEL_STREAM:
			return CR_LEVEL_MEDIA;
		default:
			return CR_NO_LEVEL;
	}
}

/* The property of the parent that holds a level's objects. */
const char *
cr_child_key(CrLevel level)
{
	switch (level)
	{
		case CR_LEVEL_SESSION:
			return "sessions";
		case CR_LEVEL_PARTICIPANT:
			return "participants_v2";
		case CR_LEVEL_SEGMENT:
			return "segments";
		case CR_LEVEL_MEDIA:
			return "media";
		case CR_LEVEL_STREAM:
			return "streams";
		default:
			return NULL;
	}
}

/*
 * The column whose value names the call record a row is fetched by:
 * "id" of call_records, "call_record_id" of the tables below a call
 * record; NULL for the log tables, which are not fetched by id.
 */
const char *
cr_key_column(const CrResource *res)
{
	if (res->fetch == CR_FETCH_RECORDS)
		return "id";
	if (res->fetch == CR_FETCH_RECORD_CHILDREN)
		return "call_record_id";
	return NULL;
}

/*
 * The column whose range narrows the requests: the start of the call
 * record (the call record list's $filter), or the window column of a log
 * function; NULL for the dial-out report, whose window is its own rows'.
 */
const char *
cr_time_column(const CrResource *res)
{
	if (res->fetch == CR_FETCH_RECORDS)
		return "start_date_time";
	if (res->fetch == CR_FETCH_RECORD_CHILDREN)
		return "call_start_date_time";
	return res->window_column;
}

/*
 * Rows Graph puts on a page of what the resource reads: 60 call records
 * or sessions (with their segments), 130 participants, 1,000 log rows.
 */
int
cr_page_size(const CrResource *res)
{
	if (res->fetch == CR_FETCH_FUNCTION)
		return 1000;
	if (res->level == CR_LEVEL_PARTICIPANT)
		return 130;
	return 60;
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

		if ((p->tables & LV(res->level)) == 0)
			continue;
		col = palloc(sizeof(CrColumnDef));
		col->name = p->name ? p->name : snake_case(p->path);
		col->level = p->level;
		col->path = p->path;
		col->type = p->type;
		col->beta_only = p->beta_only;
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

/*
 * The PostgreSQL type a Graph type maps to: DateTimeOffset to timestamptz,
 * Duration to interval, Int32/Int64 to integer/bigint, Single and Double
 * to double precision, Decimal to numeric, enum collections to text[],
 * complex and open types to jsonb.
 */
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
		case CR_GT_WINDOW_FROM:
		case CR_GT_WINDOW_TO:
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
		case CR_GT_DECIMAL:
			return "numeric";
		case CR_GT_BOOLEAN:
			return "boolean";
		case CR_GT_ENUM_COLLECTION:
			return "text[]";
		case CR_GT_JSON:
		case CR_GT_RAW:
			return "jsonb";
	}
	return "text";				/* keep compiler quiet */
}

/* The number of resources, and each of them, for import.c. */
int
cr_resource_count(void)
{
	return (int) lengthof(cr_resources);
}

const CrResource *
cr_resource_at(int i)
{
	return &cr_resources[i];
}
