--
-- Rescans linear in rows (keep.c): a rescan that asks Graph for what the
-- scan's last run asked for takes its rows from the rows that run kept,
-- only those its "column = parameter" conditions name, instead of
-- reading the record's pages again.
--
SELECT emulator_reset();

-- a correlated subquery per media row of record 2 (150 sessions, 3
-- pages): every rescan has the same call record and other media keys.
-- Which of the two scans asks for a page first depends on timing, so the
-- requests are counted in the emulator's log, not per scan: each page
-- once for the media scan and once for the subquery's first run, less
-- the pages one scan took from the other's answers.
SELECT * FROM explain_analyze($$
SELECT count(*) AS media,
       sum((SELECT count(*) FROM cr.streams st
             WHERE st.call_record_id = m.call_record_id AND st.session_index = m.session_index
               AND st.segment_index = m.segment_index AND st.media_index = m.media_index)) AS streams
  FROM cr.media m WHERE m.call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$)
 WHERE "QUERY PLAN" ~ 'Graph (pages|rescans from kept rows):|SubPlan|Foreign Scan';
SELECT count(*) BETWEEN 3 AND 6 AS requests_within_two_reads FROM emulator_log() l WHERE l LIKE 'GET %';

-- the same rows as reading them once
SELECT sum((SELECT count(*) FROM cr.streams st
             WHERE st.call_record_id = m.call_record_id AND st.session_index = m.session_index
               AND st.segment_index = m.segment_index AND st.media_index = m.media_index)) =
       (SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002')
       AS same_rows
  FROM cr.media m WHERE m.call_record_id = 'cafe0000-0000-4000-8000-000000000002';

-- another record per outer row: each rescan fetches (the rows kept are
-- those of the last run only)
SELECT emulator_reset();
SELECT count(*), sum((SELECT count(*) FROM cr.sessions s WHERE s.call_record_id = i.id))
  FROM (VALUES ('cafe0000-0000-4000-8000-000000000001'), ('cafe0000-0000-4000-8000-000000000004'),
               ('cafe0000-0000-4000-8000-000000000001')) i(id);
SELECT count(*) AS requests FROM emulator_log() l WHERE l LIKE 'GET %';
