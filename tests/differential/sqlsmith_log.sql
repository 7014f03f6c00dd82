-- Tables sqlsmith's --log-to writes into (instance, error with sqlstate,
-- stat), in a database of their own so that sqlsmith's target holds
-- only the foreign tables.
CREATE TABLE instance (id bigserial PRIMARY KEY, rev text, target text, hostname text,
                       version text, seed text, t timestamptz DEFAULT now());
CREATE TABLE error (id bigint, msg text, query text, target text, sqlstate text,
                    t timestamptz DEFAULT now(), errid bigserial PRIMARY KEY);
CREATE TABLE stat (id bigint, generated bigint, level float, nodes float, retries float,
                   updated timestamptz, impedance jsonb);
