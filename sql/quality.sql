--
-- Call quality classifiers (CQD rules), at and around every threshold, with
-- the expected class written out by hand.
--
CREATE TEMP TABLE audio_cases (note text, pu bigint, rtt interval, loss float8, jitter interval,
                               degr float8, concealed float8, codec text, rule text, expected text);
INSERT INTO audio_cases VALUES
 ('all fine',                     501, '100 ms', 0.01,  '10 ms',     NULL, NULL, 'opus',  'current', 'Good'),
 ('jitter exactly 30 ms',         501, '100 ms', 0.01,  '30 ms',     NULL, NULL, 'opus',  'current', 'Good'),
 ('jitter 30.001 ms',             501, '100 ms', 0.01,  '30.001 ms', NULL, NULL, 'opus',  'current', 'Poor'),
 ('loss exactly 0.1',             501, '100 ms', 0.1,   '10 ms',     NULL, NULL, 'opus',  'current', 'Good'),
 ('loss 0.1001',                  501, '100 ms', 0.1001,'10 ms',     NULL, NULL, 'opus',  'current', 'Poor'),
 ('round trip exactly 500 ms',    501, '500 ms', 0.01,  '10 ms',     NULL, NULL, 'opus',  'current', 'Good'),
 ('round trip 500.001 ms',        501, '500.001 ms', 0.01, '10 ms',  NULL, NULL, 'opus',  'current', 'Poor'),
 ('500 packets: not classified',  500, '900 ms', 0.5,   '90 ms',     NULL, NULL, 'opus',  'current', 'Unclassified'),
 ('no packet count',              NULL,'900 ms', 0.5,   '90 ms',     NULL, NULL, 'opus',  'current', 'Unclassified'),
 ('no metrics',                   9999, NULL,    NULL,  NULL,        NULL, NULL, 'opus',  'current', 'Unclassified'),
 ('one bad metric, others null',  9999, NULL,    0.2,   NULL,        NULL, NULL, 'opus',  'current', 'Poor'),
 ('2021-08: no gate',             10,  '100 ms', 0.2,   '10 ms',     NULL, NULL, 'opus',  '2021-08', 'Poor'),
 ('2021-08: degradation ignored', 10,  '100 ms', 0.01,  '10 ms',     3.0,  0.5,  'opus',  '2021-08', 'Good'),
 ('2018: degradation exactly 1',  10,  '100 ms', 0.01,  '10 ms',     1.0,  NULL, 'opus',  '2018',    'Good'),
 ('2018: degradation 1.01',       10,  '100 ms', 0.01,  '10 ms',     1.01, NULL, 'opus',  '2018',    'Poor'),
 ('2018: concealed exactly 0.07', 10,  '100 ms', 0.01,  '10 ms',     NULL, 0.07, 'opus',  '2018',    'Good'),
 ('2018: concealed 0.0701',       10,  '100 ms', 0.01,  '10 ms',     NULL, 0.0701,'opus', '2018',    'Poor'),
 ('2018: SATIN not exempt',       10,  '100 ms', 0.01,  '10 ms',     2.0,  NULL, 'satin', '2018',    'Poor'),
 ('2021-01: SATIN exempt',        10,  '100 ms', 0.01,  '10 ms',     2.0,  0.5,  'satin', '2021-01', 'Good'),
 ('2021-01: satinFullband exempt',10,  '100 ms', 0.01,  '10 ms',     2.0,  NULL, 'satinFullband', '2021-01', 'Good'),
 ('2021-01: opus not exempt',     10,  '100 ms', 0.01,  '10 ms',     2.0,  NULL, 'opus',  '2021-01', 'Poor'),
 ('2018: only degradation known', 10,  NULL,     NULL,  NULL,        0.5,  NULL, 'opus',  '2018',    'Good');
SELECT note, rule, expected, callrecords_fdw_audio_quality(pu, rtt, loss, jitter, degr, concealed, codec, rule) AS got
  FROM audio_cases
 WHERE callrecords_fdw_audio_quality(pu, rtt, loss, jitter, degr, concealed, codec, rule) IS DISTINCT FROM expected;
SELECT count(*) AS audio_cases_checked FROM audio_cases;
SELECT callrecords_fdw_audio_quality(600, '1 s', 0, '1 ms', rule => 'v9');

CREATE TEMP TABLE video_cases (note text, frame_loss float8, fps float8, fec_loss float8, min_fps float8, expected text);
INSERT INTO video_cases VALUES
 ('frame loss exactly 50 %',       50,    1,    0.9,  7, 'Good'),
 ('frame loss 50.01 %',            50.01, 30,   0,    7, 'Poor'),
 ('frame loss is a percent: 0.6',  0.6,   NULL, NULL, 7, 'Good'),
 ('no loss: 7 fps',                NULL,  7,    0.9,  7, 'Good'),
 ('no loss: 6.99 fps',             NULL,  6.99, 0,    7, 'Poor'),
 ('no loss, no fps: FEC 0.15',     NULL,  NULL, 0.15, 7, 'Good'),
 ('no loss, no fps: FEC 0.1501',   NULL,  NULL, 0.1501, 7, 'Poor'),
 ('nothing',                       NULL,  NULL, NULL, 7, 'Unclassified'),
 ('screen sharing: 2 fps',         NULL,  2,    NULL, 2, 'Good'),
 ('screen sharing: 1.99 fps',      NULL,  1.99, NULL, 2, 'Poor');
SELECT note, expected, callrecords_fdw_video_quality(frame_loss, fps, fec_loss, min_fps) AS got
  FROM video_cases
 WHERE callrecords_fdw_video_quality(frame_loss, fps, fec_loss, min_fps) IS DISTINCT FROM expected;
SELECT count(*) AS video_cases_checked FROM video_cases;

-- poor % leaves unclassified streams out of the denominator
SELECT callrecords_fdw_poor_percent(ARRAY['Poor', 'Good', 'Good', 'Unclassified', 'Unclassified']) AS poor_pct,
       callrecords_fdw_poor_percent(ARRAY['Unclassified']) AS nothing_classified;

-- on real rows: audio streams of call record 2, by direction
SELECT stream_direction,
       count(*) AS streams,
       count(*) FILTER (WHERE q = 'Poor') AS poor,
       count(*) FILTER (WHERE q = 'Unclassified') AS unclassified,
       callrecords_fdw_poor_percent(array_agg(q)) AS poor_pct
  FROM (SELECT stream_direction,
               callrecords_fdw_audio_quality(packet_utilization, average_round_trip_time,
                                             average_packet_loss_rate, average_jitter) AS q
          FROM cr.streams
         WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002' AND media_label = 'main-audio') s
 GROUP BY 1 ORDER BY 1;
-- the same counts straight from the emulator's JSON, thresholds written out
SELECT t->>'streamDirection' AS stream_direction, count(*) AS streams,
       count(*) FILTER (WHERE (t->>'packetUtilization')::bigint > 500
                          AND ((t->>'averageRoundTripTime')::interval > '500 ms'
                               OR (t->>'averagePacketLossRate')::float8 > 0.1
                               OR (t->>'averageJitter')::interval > '30 ms')) AS poor
  FROM jsonb_array_elements(emulator_raw('cafe0000-0000-4000-8000-000000000002')->'sessions') s,
       jsonb_array_elements(s->'segments') g, jsonb_array_elements(g->'media') m,
       jsonb_array_elements(m->'streams') t
 WHERE m->>'label' = 'main-audio'
 GROUP BY 1 ORDER BY 1;
