-- The oracle of the differential test: schema o holds, as local tables with
-- the foreign tables' names and key columns, what emulator_raw(id) (the
-- whole call record, unpaged) says for the ids given to o_load().  A
-- generated query that reads only these columns runs unchanged on o.* in
-- place of cr.* and must give the same rows.
CREATE SCHEMA o;
CREATE TABLE o.raw (id text PRIMARY KEY, j jsonb NOT NULL);
CREATE VIEW o.call_records AS
  SELECT r.id, r.j->>'type' AS type,
         (r.j->>'startDateTime')::timestamptz AS start_date_time,
         (r.j->>'endDateTime')::timestamptz AS end_date_time
    FROM o.raw r;
CREATE VIEW o.participants AS
  SELECT r.id AS call_record_id, p.n::int AS participant_index,
         (r.j->>'startDateTime')::timestamptz AS call_start_date_time, p.v->>'id' AS id
    FROM o.raw r, jsonb_array_elements(r.j->'participants_v2') WITH ORDINALITY p(v, n);
CREATE VIEW o.sessions AS
  SELECT r.id AS call_record_id, s.n::int AS session_index,
         (r.j->>'startDateTime')::timestamptz AS call_start_date_time, s.v->>'id' AS id,
         (s.v->>'startDateTime')::timestamptz AS start_date_time,
         (s.v->>'endDateTime')::timestamptz AS end_date_time
    FROM o.raw r, jsonb_array_elements(r.j->'sessions') WITH ORDINALITY s(v, n);
CREATE VIEW o.segments AS
  SELECT r.id AS call_record_id, s.n::int AS session_index, g.n::int AS segment_index,
         s.v->>'id' AS session_id, (r.j->>'startDateTime')::timestamptz AS call_start_date_time,
         g.v->>'id' AS id,
         (g.v->>'startDateTime')::timestamptz AS start_date_time,
         (g.v->>'endDateTime')::timestamptz AS end_date_time
    FROM o.raw r, jsonb_array_elements(r.j->'sessions') WITH ORDINALITY s(v, n),
         jsonb_array_elements(s.v->'segments') WITH ORDINALITY g(v, n);
CREATE VIEW o.media AS
  SELECT r.id AS call_record_id, s.n::int AS session_index, g.n::int AS segment_index,
         m.n::int AS media_index, s.v->>'id' AS session_id, g.v->>'id' AS segment_id,
         (r.j->>'startDateTime')::timestamptz AS call_start_date_time, m.v->>'label' AS label
    FROM o.raw r, jsonb_array_elements(r.j->'sessions') WITH ORDINALITY s(v, n),
         jsonb_array_elements(s.v->'segments') WITH ORDINALITY g(v, n),
         jsonb_array_elements(g.v->'media') WITH ORDINALITY m(v, n);
CREATE VIEW o.streams AS
  SELECT r.id AS call_record_id, s.n::int AS session_index, g.n::int AS segment_index,
         m.n::int AS media_index, t.n::int AS stream_index, s.v->>'id' AS session_id,
         g.v->>'id' AS segment_id, m.v->>'label' AS media_label,
         (r.j->>'startDateTime')::timestamptz AS call_start_date_time,
         t.v->>'streamId' AS stream_id, t.v->>'streamDirection' AS stream_direction,
         (t.v->>'startDateTime')::timestamptz AS start_date_time,
         (t.v->>'endDateTime')::timestamptz AS end_date_time,
         (t.v->>'averageJitter')::interval AS average_jitter,
         (t.v->>'maxJitter')::interval AS max_jitter,
         (t.v->>'averagePacketLossRate')::float8 AS average_packet_loss_rate
    FROM o.raw r, jsonb_array_elements(r.j->'sessions') WITH ORDINALITY s(v, n),
         jsonb_array_elements(s.v->'segments') WITH ORDINALITY g(v, n),
         jsonb_array_elements(g.v->'media') WITH ORDINALITY m(v, n),
         jsonb_array_elements(m.v->'streams') WITH ORDINALITY t(v, n);
