--
-- Pages at full concurrency (fetch.c): the next link of a page answered
-- ahead is followed as soon as the page has come, not when the scan
-- reaches it; links followed ahead pass the same checks as the others;
-- scans that share responses with another scan of the statement ask
-- ahead too, and still ask for each page once.
--
SELECT emulator_reset();

-- three call records of 150 sessions (3 pages: 60, 60, 30), each session
-- one stream (after each reset, which drops them); a session's id is
-- suffixed with text that only a careless scan of the page would take for
-- JSON (section 4)
CREATE FUNCTION put_paged(id_suffix text DEFAULT '') RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN count(*) = 3 AND bool_and(line = 'ok') THEN 'ok' ELSE 'failed' END
    FROM generate_series(1, 3) r,
         emulator('PUT', '/_emulator/records/' || format('a4ead000-0000-4000-8000-%s', lpad(r::text, 12, '0')),
                  json_build_object('id', format('a4ead000-0000-4000-8000-%s', lpad(r::text, 12, '0')),
                                    'type', 'groupCall', 'startDateTime', '2026-11-27T10:00:00Z',
                                    'sessions', (SELECT json_agg(json_build_object(
                                        'id', 's' || s || id_suffix,
                                        'segments', json_build_array(json_build_object(
                                            'id', 'g' || s,
                                            'media', json_build_array(json_build_object(
                                                'label', 'main-audio',
                                                'streams', json_build_array(json_build_object(
                                                    'streamId', s::text, 'streamDirection', 'callerToCallee'))))))))
                                                 FROM generate_series(1, 150) s))::text) $$;

-- the position in the log of a record's page (1: the first, 2 and 3:
-- the pages its next links lead to, whose skip token counts 60 and 120)
CREATE FUNCTION page_at(r int, page int) RETURNS bigint LANGUAGE sql AS $$
  SELECT min(n) FROM (SELECT n, line FROM emulator('GET', '/_emulator/log')) l
   WHERE line LIKE 'GET %' AND line ~ format('a4ead000-0000-4000-8000-%s', lpad(r::text, 12, '0'))
     AND CASE page
           WHEN 1 THEN line !~ 'skiptoken'
           ELSE line ~ ('skiptoken=' || rtrim(translate(encode(convert_to(
                  format('s|a4ead000-0000-4000-8000-%s|%s', lpad(r::text, 12, '0'), (page - 1) * 60),
                  'UTF8'), 'base64'), '+/', '-_'), '='))
         END $$;

-- 1. two records, 200 ms a request, 4 in flight: the second record's
-- second page is asked for as soon as its first page has come, before
-- the first record's third page (which needs the first record's second
-- page), not after the first record was read
ALTER SERVER graph OPTIONS (ADD max_concurrency '4');
SELECT emulator_reset(), put_paged();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*), count(DISTINCT call_record_id) FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002');
SELECT page_at(2, 2) < page_at(1, 3) AS second_record_paged_ahead,
       count(*) AS requests, count(DISTINCT l) AS distinct_requests
  FROM emulator_log() l WHERE l LIKE 'GET %';

-- EXPLAIN ANALYZE: the scan's memory budget, and with TIMING
-- how many next links were followed as their page came (some, here)
SELECT emulator_reset(), put_paged();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002',
                          'a4ead000-0000-4000-8000-000000000003')$$)
 WHERE "QUERY PLAN" ~ 'Graph (requests|pages|memory):';
CREATE TEMP TABLE ahead_plan (line text);
DO $$
DECLARE
  line text;
BEGIN
  PERFORM emulator_reset();
  PERFORM put_paged();
  PERFORM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
  FOR line IN EXECUTE $q$EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY OFF)
    SELECT count(*) FROM cr.streams
     WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002',
                              'a4ead000-0000-4000-8000-000000000003')$q$ LOOP
    INSERT INTO ahead_plan VALUES (line);
  END LOOP;
END $$;
SELECT regexp_replace(line, '[0-9]+', 'N', 'g') AS line,
       substring(line from '([0-9]+) next links followed')::int > 0 AS followed_some
  FROM ahead_plan WHERE line ~ 'Graph memory';
ALTER SERVER graph OPTIONS (DROP max_concurrency);

-- 2. a link found ahead is checked before it is followed: to another
-- host, to another collection, or back to a page already asked for, it
-- is never requested, and reading its page raises the error as before
SELECT emulator_reset(), put_paged();
SELECT emulator_fault(jsonb_build_object('match', 'a4ead000-0000-4000-8000-000000000002?',
                                         'next_link', 'http://graph.invalid/v1.0/communications/callRecords/x/sessions',
                                         'times', -1));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002')$$);
SELECT count(*) FILTER (WHERE l ~ 'invalid|/users') AS bad_links_asked FROM emulator_log() l;

SELECT emulator_reset(), put_paged();
SELECT emulator_fault(jsonb_build_object('match', 'a4ead000-0000-4000-8000-000000000002?',
                                         'next_link', (SELECT url FROM emulator_conf) || '/v1.0/users',
                                         'times', -1));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002')$$);
SELECT count(*) FILTER (WHERE l ~ 'invalid|/users') AS bad_links_asked FROM emulator_log() l;

-- the second page of the second record links to itself
SELECT emulator_reset(), put_paged();
SELECT emulator_fault(jsonb_build_object(
  'match', 'skiptoken=' || rtrim(translate(encode(convert_to('s|a4ead000-0000-4000-8000-000000000002|60', 'UTF8'),
                                                  'base64'), '+/', '-_'), '='),
  'next_link', (SELECT url FROM emulator_conf) || '/v1.0/communications/callRecords/a4ead000-0000-4000-8000-000000000002/sessions?$expand=segments&$skiptoken='
               || rtrim(translate(encode(convert_to('s|a4ead000-0000-4000-8000-000000000002|60', 'UTF8'),
                                         'base64'), '+/', '-_'), '='),
  'times', -1));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002')$$);
SELECT count(*) FILTER (WHERE l ~ 'skiptoken') AS pages_after_the_first,
       count(DISTINCT l) FILTER (WHERE l ~ 'skiptoken') AS distinct_ones
  FROM emulator_log() l WHERE l LIKE 'GET %';

-- 3. two tables of the server in one statement, the join not pushed down,
-- share responses: both scans ask ahead (no longer one page at a time),
-- and each page is still asked for once.  Which scan sends a page's
-- request depends on timing (one may take every page from the other's
-- answers and send none): every scan that sent requests chose 100 in
-- flight.
SET callrecords_fdw.enable_join_pushdown = off;
SELECT emulator_reset(), put_paged();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 100}');
SELECT count(*) FILTER (WHERE line ~ '^Graph requests: [1-9]') >= 1 AND
       count(*) FILTER (WHERE line ~ '^Graph requests: [1-9]') =
       count(*) FILTER (WHERE line ~ '^Graph in flight: 100 chosen') AS every_sender_asks_ahead
  FROM (SELECT ltrim("QUERY PLAN") AS line FROM explain_analyze($$
SELECT count(*) FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002',
                            'a4ead000-0000-4000-8000-000000000003')
   AND st.call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002',
                             'a4ead000-0000-4000-8000-000000000003')$$)) x;
SELECT count(*) AS requests, count(DISTINCT l) AS distinct_requests
  FROM emulator_log() l WHERE l LIKE 'GET %';
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int > 1 AS several_at_once
  FROM emulator('GET', '/_emulator/stats');
RESET callrecords_fdw.enable_join_pushdown;
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 0}');

-- 4. a page's next link is found in its text ahead of the parse, past
-- strings with escaped quotes, brackets, a key spelled inside a value and
-- a final backslash, and past a top-level member of a megabyte (the pad
-- fault, which no column reads): the second record's second page is
-- still asked for before the first record's third
ALTER SERVER graph OPTIONS (ADD max_concurrency '4');
SELECT emulator_reset(), put_paged(E' "}]{[ "sessions@odata.nextLink":"https://elsewhere/" \\');
SELECT emulator_fault('{"match": "a4ead000-", "body": "pad", "pad_bytes": 1000000, "times": -1}');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*), count(DISTINCT call_record_id), count(*) FILTER (WHERE right(session_id, 1) = E'\\' AND session_id ~ 'nextLink') AS odd_ids
  FROM cr.streams
 WHERE call_record_id IN ('a4ead000-0000-4000-8000-000000000001', 'a4ead000-0000-4000-8000-000000000002');
SELECT page_at(2, 2) < page_at(1, 3) AS second_record_paged_ahead,
       count(*) AS requests, count(DISTINCT l) AS distinct_requests
  FROM emulator_log() l WHERE l LIKE 'GET %';
ALTER SERVER graph OPTIONS (DROP max_concurrency);
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 0}');
