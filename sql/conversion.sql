--
-- Conversion rules, on call records uploaded to the emulator with exact
-- JSON: durations (negative too), 0-7 fractional digits, polymorphic
-- endpoints, enum values Graph adds later, open types, big integers, and
-- values that must not convert silently.
--
\pset null '(null)'
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/c0de0000-0000-4000-8000-000000000001', $json$
{"id": "c0de0000-0000-4000-8000-000000000001", "version": 3, "type": "groupCall",
 "modalities": ["audio", "holographic"],
 "lastModifiedDateTime": "2026-11-02T10:00:00Z",
 "startDateTime": "2026-11-02T09:00:00.1Z", "endDateTime": "2026-11-02T09:30:00.1234567Z",
 "organizer_v2": {"id": "o1", "identity": {"user": {"id": "o1", "displayName": "Olga"}, "acsUser": null}},
 "sessions": [
  {"id": "s1", "modalities": ["audio"], "isTest": false,
   "startDateTime": "2026-11-02T09:00:00Z", "endDateTime": "2026-11-02T09:10:00.123Z",
   "caller": {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
              "name": "laptop", "cpuCoresCount": 8,
              "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                            "platform": "someNewPlatform", "productFamily": "teams"},
              "associatedIdentity": {"id": "u1", "displayName": "Ursula", "acsUser": {"id": "acs1"}},
              "feedback": {"rating": "good", "text": "fine", "tokens": {"NoSound": false, "BrandNewToken": true}}},
   "callee": {"@odata.type": "#microsoft.graph.callRecords.serviceEndpoint",
              "userAgent": {"@odata.type": "#microsoft.graph.callRecords.serviceUserAgent",
                            "role": "skypeForBusinessCallQueues", "headerValue": "svc/1.0"}},
   "failureInfo": {"stage": "midcall", "reason": "network"},
   "segments": [
    {"id": "g1", "startDateTime": "2026-11-02T09:00:00.123456Z", "endDateTime": "2026-11-02T09:10:00Z",
     "media": [
      {"label": "main-audio",
       "callerNetwork": {"linkSpeed": 9007199254740993, "relayPort": 3478, "wifiBand": "frequency70GHz",
                         "traceRouteHops": [{"hopCount": 1, "ipAddress": "10.0.0.1", "roundTripTime": "PT0.001S"}]},
       "calleeDevice": {"receivedSignalLevel": -14, "micGlitchRate": 0},
       "streams": [
        {"streamId": "1", "streamDirection": "callerToCallee",
         "averageJitter": "-PT0.5S", "maxJitter": "P1DT2H3M4.5S", "averageRoundTripTime": "PT0S",
         "maxRoundTripTime": "PT1.2345678S",
         "averagePacketLossRate": 0, "maxPacketLossRate": 0.27, "averageBandwidthEstimate": 9007199254740993,
         "startDateTime": "2026-11-02T09:00:00.1234567Z", "endDateTime": null,
         "isAudioForwardErrorCorrectionUsed": true},
        {"streamId": "2", "streamDirection": "calleeToCaller"}
       ]}
     ]}
   ]}
 ]}
$json$);

-- the record's own columns
SELECT id, version, type, modalities, start_date_time, end_date_time,
       organizer_v2_identity_user_display_name, organizer_v2_identity
  FROM cr.call_records WHERE id = 'c0de0000-0000-4000-8000-000000000001';
-- polymorphic endpoints fill what exists; enum values Graph adds later pass through
SELECT caller_endpoint_type, caller_user_agent_type, caller_user_agent_platform,
       caller_user_agent_role, callee_endpoint_type, callee_user_agent_type,
       callee_user_agent_role, callee_user_agent_platform, callee_name,
       failure_info_stage, failure_info_reason
  FROM cr.sessions WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000001';
-- open types keep unknown keys in jsonb
SELECT caller_associated_identity, caller_associated_identity_display_name, caller_feedback_tokens
  FROM cr.sessions WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000001';
-- durations, negative ones too; fractions; big integers keep every digit
SELECT stream_index, average_jitter, max_jitter, average_round_trip_time, max_round_trip_time,
       average_packet_loss_rate, max_packet_loss_rate, average_bandwidth_estimate,
       start_date_time, end_date_time, is_audio_forward_error_correction_used
  FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000001' ORDER BY stream_index;
SELECT caller_network_link_speed, caller_network_relay_port, caller_network_wifi_band,
       caller_network_trace_route_hops, callee_device_received_signal_level, callee_device_mic_glitch_rate
  FROM cr.media WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000001';
-- the timestamps: 0, 1, 3, 6 and 7 fractional digits (the 7th rounds)
SELECT s.start_date_time AS session_start, s.end_date_time AS session_end,
       g.start_date_time AS segment_start, s.call_start_date_time
  FROM cr.sessions s JOIN cr.segments g USING (call_record_id, session_index)
 WHERE s.call_record_id = 'c0de0000-0000-4000-8000-000000000001'
   AND g.call_record_id = 'c0de0000-0000-4000-8000-000000000001';

-- values that must not convert silently
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/c0de0000-0000-4000-8000-000000000002', $json$
{"id": "c0de0000-0000-4000-8000-000000000002", "startDateTime": "2026-11-02T09:00:00Z",
 "sessions": [{"id": "s1", "segments": [{"id": "g1", "media": [{"label": "main-audio",
   "callerNetwork": {"relayPort": 4294967296, "linkSpeed": "fast"},
   "streams": [{"streamId": "1", "averageBandwidthEstimate": "12", "averageJitter": 30,
                "averagePacketLossRate": "0.5", "wasMediaBypassed": "yes"}]}]}]}]}
$json$);
SELECT * FROM expect_error($$SELECT caller_network_relay_port FROM cr.media WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
SELECT * FROM expect_error($$SELECT caller_network_link_speed FROM cr.media WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
SELECT * FROM expect_error($$SELECT average_bandwidth_estimate FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
SELECT * FROM expect_error($$SELECT average_jitter FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
SELECT * FROM expect_error($$SELECT average_packet_loss_rate FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
SELECT * FROM expect_error($$SELECT was_media_bypassed FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002'$$);
-- the error names table, column and call record in CONTEXT
SELECT average_bandwidth_estimate FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002';
-- the columns that are fine still read (the bad values are never touched)
SELECT stream_id FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002';
-- a text column takes any scalar as text
CREATE FOREIGN TABLE loose_streams (call_record_id text, average_jitter text, average_bandwidth_estimate text,
  was_media_bypassed text) SERVER graph OPTIONS (resource 'streams');
SELECT average_jitter, average_bandwidth_estimate, was_media_bypassed
  FROM loose_streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000002';
DROP FOREIGN TABLE loose_streams;
-- a number too large for any JSON reader is a parse error, not infinity
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/c0de0000-0000-4000-8000-000000000003', $json$
{"id": "c0de0000-0000-4000-8000-000000000003", "sessions": [{"id": "s1", "segments": [{"id": "g1", "media": [{"label": "x",
  "streams": [{"streamId": "1", "maxPacketLossRate": 1e400}]}]}]}]}
$json$);
SELECT * FROM expect_error($$SELECT max_packet_loss_rate FROM cr.streams WHERE call_record_id = 'c0de0000-0000-4000-8000-000000000003'$$);
