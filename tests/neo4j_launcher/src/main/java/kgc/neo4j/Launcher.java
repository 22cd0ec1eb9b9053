package kgc.neo4j;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Embedded Neo4j Community with Bolt on 127.0.0.1:PORT and authentication on.
 *
 * <p>Usage: {@code Launcher PORT DATA_DIR [PASSWORD]}; without PASSWORD, $NEO4J_PASSWORD is used.
 * Prints exactly one {@code NEO4J READY bolt://127.0.0.1:PORT} line when clients can connect,
 * and shuts the database down cleanly on SIGTERM/SIGINT.
 */
public final class Launcher {
    static final String USER = "neo4j";
    static final int MIN_PASSWORD_LENGTH = 8; // Neo4j's own default minimum

    private Launcher() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 2 || args.length > 3) {
            fail("usage: Launcher PORT DATA_DIR [PASSWORD]  (or set NEO4J_PASSWORD)");
        }
        int port = parsePort(args[0]);
        Path home = Path.of(args[1]).toAbsolutePath();
        String password = args.length == 3 ? args[2] : System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < MIN_PASSWORD_LENGTH) {
            fail("a password of at least " + MIN_PASSWORD_LENGTH + " characters is required (arg 3 or NEO4J_PASSWORD)");
        }

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.udc_enabled, false) // no outbound usage reports
                // Small footprint: the CI box has 2 cores, and test graphs are tiny.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(128))
                // Neo4j preallocates transaction logs at 256 MiB per database (~0.5 GB on disk for an
                // empty server). Tests grow them as needed instead; -Dkgc.neo4j.preallocateLogs=true
                // keeps Neo4j's default, which makes each commit cheaper (the benchmark uses it).
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, Boolean.getBoolean("kgc.neo4j.preallocateLogs"))
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(64))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            System.out.println("NEO4J STOPPED");
            System.out.flush();
            stopped.countDown();
        }, "neo4j-shutdown"));

        // Embedded access to the system database bypasses auth, so the password is set here on
        // every start (idempotent), and no first-login password change is required.
        dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                "ALTER USER " + USER + " SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));
        if (!dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).isAvailable(60_000)) {
            fail("database " + GraphDatabaseSettings.DEFAULT_DATABASE_NAME + " did not become available");
        }

        System.out.println("NEO4J READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                fail("port out of range: " + text);
            }
            return port;
        } catch (NumberFormatException e) {
            fail("not a port number: " + text);
            return -1; // unreachable
        }
    }

    private static void fail(String message) {
        System.err.println("neo4j-launcher: " + message);
        System.exit(2);
    }
}
