// callrecords_fdw from pgjdbc, the way BI tools use it: catalog metadata,
// a prepared statement executed often enough for a generic plan, and a
// cursor-based fetch.  Connects with the PG* environment of pg_virtualenv
// to the regression database, whose setup (schema cr, emulator helpers)
// the suite has made.  Prints one line per check and "N passed, M failed".
import java.sql.*;
import java.util.*;

public class ClientTest {
    static int passed = 0, failed = 0;

    static void check(String what, boolean ok, Object got) {
        System.out.println((ok ? "ok     " : "FAILED ") + what + ": " + got);
        if (ok) passed++; else failed++;
    }

    static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT")
                + "/contrib_regression";
        Properties p = new Properties();
        p.setProperty("user", System.getenv("PGUSER"));
        if (System.getenv("PGPASSWORD") != null)
            p.setProperty("password", System.getenv("PGPASSWORD"));
        try (Connection c = DriverManager.getConnection(url, p)) {
            // DatabaseMetaData lists the foreign tables and their column types
            DatabaseMetaData md = c.getMetaData();
            SortedMap<String, String> tables = new TreeMap<>();
            try (ResultSet r = md.getTables(null, "cr", "%", null)) {
                while (r.next())
                    tables.put(r.getString("TABLE_NAME"), r.getString("TABLE_TYPE"));
            }
            check("getTables lists the 8 foreign tables of cr", tables.size() == 8
                    && "FOREIGN TABLE".equals(tables.get("streams")), tables);
            Map<String, String> types = new TreeMap<>();
            try (ResultSet r = md.getColumns(null, "cr", "streams", "%")) {
                while (r.next())
                    types.put(r.getString("COLUMN_NAME"), r.getString("TYPE_NAME"));
            }
            check("getColumns gives the column types of streams",
                    "interval".equals(types.get("average_jitter"))
                    && "float8".equals(types.get("average_packet_loss_rate"))
                    && "int4".equals(types.get("stream_index")) && types.size() == 40,
                    types.size() + " columns, average_jitter " + types.get("average_jitter"));

            // a prepared statement run 8 times: pgjdbc prepares it on the server after 5 runs
            // and PostgreSQL then plans it generically; the id must still be pushed down
            scalar(c, "SELECT count(*) FROM emulator_reset()");
            List<Long> counts = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM cr.streams WHERE call_record_id = ?")) {
                for (int i = 0; i < 8; i++) {
                    ps.setString(1, i % 2 == 0 ? "cafe0000-0000-4000-8000-000000000001"
                                               : "cafe0000-0000-4000-8000-000000000004");
                    try (ResultSet r = ps.executeQuery()) { r.next(); counts.add(r.getLong(1)); }
                }
            }
            long requests = scalar(c, "SELECT count(*) FROM emulator_log() l WHERE l LIKE 'GET %'");
            check("8 executions of a prepared statement return the right rows",
                    counts.equals(Arrays.asList(2L, 28L, 2L, 28L, 2L, 28L, 2L, 28L)), counts);
            check("and make one Graph request each (the id is pushed down)", requests == 8,
                    requests + " requests");

            // a cursor-based fetch of a multi-page scan returns every row
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(10);
                Set<Integer> seen = new HashSet<>();
                int rows = 0;
                try (ResultSet r = s.executeQuery("SELECT session_index FROM cr.sessions "
                        + "WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'")) {
                    while (r.next()) { rows++; seen.add(r.getInt(1)); }
                }
                check("setFetchSize(10) over 150 sessions on 3 Graph pages returns all of them",
                        rows == 150 && seen.size() == 150, rows + " rows, " + seen.size() + " distinct");
            }
            c.commit();
        }
        System.out.println("jdbc: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
