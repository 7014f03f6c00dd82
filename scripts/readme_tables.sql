-- The table reference of docs/tables.md, generated from the catalogue
-- (callrecords_fdw_tables() and callrecords_fdw_columns()); a column's
-- meaning is its comment, as IMPORT FOREIGN SCHEMA sets it.
SELECT string_agg(section, E'\n' ORDER BY ord)
  FROM (SELECT t.ord,
               format(E'### %s\n\n%s.%s\n\n- Fetched by: `%s`\n- Conditions that narrow the requests: %s\n\n| # | column | type | meaning, and its source in Graph |\n|---|---|---|---|\n%s\n',
                      t.table_name, t.description,
                      CASE WHEN t.beta_only THEN ' Needs `api_version ''beta''`.' ELSE '' END,
                      t.fetched_by, t.pushed_conditions,
                      (SELECT string_agg(format('| %s | `%s` | %s | %s%s |', c.ordinal, c.column_name,
                                                c.column_type, replace(c.description, '|', '\|'),
                                                CASE WHEN c.beta_only AND NOT t.beta_only THEN ' (beta only)' ELSE '' END),
                                         E'\n' ORDER BY c.ordinal)
                         FROM callrecords_fdw_columns() c
                        WHERE c.table_name = t.table_name)) AS section
          FROM callrecords_fdw_tables() WITH ORDINALITY
               AS t(table_name, description, fetched_by, pushed_conditions, beta_only, ord)) s;
