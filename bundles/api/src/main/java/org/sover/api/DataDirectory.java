package org.sover.api;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where this node keeps every mutable file. The launcher sets {@code sover.data} from
 * {@code SOVER_DATA}; bundles use it only as the default of their own configuration.
 */
public final class DataDirectory {
    public static final String PROPERTY = "sover.data";

    private DataDirectory() {
    }

    public static Path root() {
        String dir = System.getProperty(PROPERTY);
        if (dir == null || dir.isBlank()) {
            String karafData = System.getProperty("karaf.data");
            dir = karafData != null ? Paths.get(karafData).resolveSibling("sover").toString()
                    : Paths.get(System.getProperty("user.dir"), "sover-data").toString();
        }
        return Paths.get(dir).toAbsolutePath().normalize();
    }
}
