--
-- The request budget known before it is spent (fetch.c, ratelimit.c): a
-- scan whose requests are known when it starts (an id list, literal or
-- a parameter, ANY(ARRAY(...)), a batched join's keys) and do not fit
-- max_requests fails before it sends any, with the count it needs; a
-- scan that learns its count while it runs (next links) stops at the
-- budget as before.  The emulator's log shows what was sent.
--
ALTER SERVER graph OPTIONS (ADD max_requests '5', ADD record_rate_limit '0');
CREATE FUNCTION graph_gets() RETURNS bigint LANGUAGE sql
AS $$ SELECT count(*) FROM emulator_log() l WHERE l LIKE 'GET %' $$;
CREATE TABLE budget_ids AS
  SELECT format('cafe0000-0000-4000-8000-%s', lpad(i::text, 12, '0')) AS id
    FROM generate_series(11, 18) i;
ANALYZE budget_ids;
-- a token first, so that only Graph GETs are counted below
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';

-- 1. eight literal ids (two repeated: six distinct would not fit either)
SELECT emulator_reset();
SELECT * FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE id IN
  ('cafe0000-0000-4000-8000-000000000011', 'cafe0000-0000-4000-8000-000000000012',
   'cafe0000-0000-4000-8000-000000000013', 'cafe0000-0000-4000-8000-000000000014',
   'cafe0000-0000-4000-8000-000000000015', 'cafe0000-0000-4000-8000-000000000016',
   'cafe0000-0000-4000-8000-000000000011', 'cafe0000-0000-4000-8000-000000000012')$$);
SELECT graph_gets();

-- 2. a parameter, in a generic plan too
PREPARE by_ids(text[]) AS SELECT count(*) FROM cr.streams WHERE call_record_id = ANY($1);
SET plan_cache_mode = force_generic_plan;
SELECT * FROM expect_error($$EXECUTE by_ids(ARRAY['cafe0000-0000-4000-8000-000000000011',
  'cafe0000-0000-4000-8000-000000000012', 'cafe0000-0000-4000-8000-000000000013',
  'cafe0000-0000-4000-8000-000000000014', 'cafe0000-0000-4000-8000-000000000015',
  'cafe0000-0000-4000-8000-000000000016', 'cafe0000-0000-4000-8000-000000000017'])$$);
RESET plan_cache_mode;
SELECT graph_gets();

-- 3. ANY(ARRAY(SELECT ...))
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions
  WHERE call_record_id = ANY(ARRAY(SELECT id FROM budget_ids))$$);
SELECT graph_gets();

-- 4. a batched join's keys
SELECT * FROM expect_error($$SELECT count(*) FROM budget_ids b JOIN cr.streams s ON s.call_record_id = b.id$$);
SELECT graph_gets();

-- 5. what fits is read: five ids, five requests
SELECT count(*) FROM cr.call_records WHERE id = ANY(ARRAY(SELECT id FROM budget_ids ORDER BY id LIMIT 5));
SELECT graph_gets();

-- 6. a count learnt while running: one call record of 6,000 sessions in
-- 100 pages stops at the budget, as before, after five requests
SELECT emulator_reset();
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000003'$$);
SELECT graph_gets();

ALTER SERVER graph OPTIONS (DROP max_requests, DROP record_rate_limit);
DEALLOCATE by_ids;
DROP TABLE budget_ids;
DROP FUNCTION graph_gets();
