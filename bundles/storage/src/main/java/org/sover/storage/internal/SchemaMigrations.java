package org.sover.storage.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Brings the schema up to date from the SQL scripts under {@code db/migration/}. Each script
 * runs in its own transaction together with its {@code schema_version} row, so a crash leaves
 * the schema at a version boundary and the next start resumes after it.
 */
final class SchemaMigrations {
    private static final System.Logger LOG = System.getLogger(SchemaMigrations.class.getName());

    /**
     * Every script, in order. Listed rather than discovered because a bundle's class loader
     * cannot enumerate a resource folder portably; a unit test checks the list is complete.
     */
    static final List<String> SCRIPTS = List.of("V1__init.sql", "V2__replication.sql", "V3__oplog.sql",
            "V4__accounts_oplog.sql");

    static final String RESOURCE_FOLDER = "db/migration/";
    private static final Pattern NAME = Pattern.compile("V(\\d+)__(\\w+)\\.sql");

    record Script(int version, String description, String resource) {
    }

    private final List<Script> scripts;

    SchemaMigrations() {
        this(SCRIPTS);
    }

    SchemaMigrations(List<String> names) {
        List<Script> parsed = new ArrayList<>();
        for (String name : names) {
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw new IllegalArgumentException("migration script name " + name + " is not V<n>__<words>.sql");
            }
            int version = Integer.parseInt(m.group(1));
            if (version != parsed.size() + 1) {
                throw new IllegalArgumentException("migration " + name + " should be version " + (parsed.size() + 1));
            }
            parsed.add(new Script(version, m.group(2).replace('_', ' '), RESOURCE_FOLDER + name));
        }
        this.scripts = List.copyOf(parsed);
    }

    int latestVersion() {
        return scripts.size();
    }

    /** Applies the scripts the database has not seen yet; returns how many ran. */
    int apply(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        try {
            ensureVersionTable(connection);
            int current = currentVersion(connection);
            if (current > latestVersion()) {
                throw new SQLException("the database schema is at version " + current + " but this storage bundle"
                        + " knows only up to " + latestVersion() + "; install the newer storage bundle again");
            }
            int applied = 0;
            for (Script script : scripts.subList(current, scripts.size())) {
                run(connection, script);
                applied++;
            }
            return applied;
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private void run(Connection connection, Script script) throws SQLException {
        long started = System.nanoTime();
        try (Statement statement = connection.createStatement()) {
            for (String sql : statements(read(script.resource()))) {
                try {
                    statement.execute(sql);
                } catch (SQLException e) {
                    throw new SQLException("migration V" + script.version() + " failed at: " + sql + " -- "
                            + e.getMessage(), e.getSQLState(), e);
                }
            }
        }
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
            insert.setInt(1, script.version());
            insert.setString(2, script.description());
            insert.setLong(3, System.currentTimeMillis());
            insert.executeUpdate();
        }
        connection.commit();
        LOG.log(Level.INFO, "Applied schema migration V{0} ({1}) in {2} ms", script.version(), script.description(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private static void ensureVersionTable(Connection connection) throws SQLException {
        try (ResultSet tables = connection.getMetaData().getTables(null, null, "SCHEMA_VERSION", null)) {
            if (tables.next()) {
                return;
            }
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, "
                    + "description VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
        }
        connection.commit();
    }

    private static int currentVersion(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String read(String resource) throws SQLException {
        try (InputStream in = SchemaMigrations.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new SQLException("migration script " + resource + " is missing from the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SQLException("could not read migration script " + resource, e);
        }
    }

    /** Splits a script at semicolons outside quotes, dropping {@code --} comments and blank statements. */
    static List<String> statements(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < script.length(); i++) {
            char c = script.charAt(i);
            if (quoted) {
                current.append(c);
                quoted = c != '\'';
            } else if (c == '\'') {
                current.append(c);
                quoted = true;
            } else if (c == '-' && i + 1 < script.length() && script.charAt(i + 1) == '-') {
                int end = script.indexOf('\n', i);
                i = end < 0 ? script.length() : end;
                current.append('\n');
            } else if (c == ';') {
                addIfNotBlank(statements, current);
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        addIfNotBlank(statements, current);
        return statements;
    }

    private static void addIfNotBlank(List<String> statements, StringBuilder sql) {
        String trimmed = sql.toString().strip();
        if (!trimmed.isEmpty()) {
            statements.add(trimmed);
        }
    }
}
