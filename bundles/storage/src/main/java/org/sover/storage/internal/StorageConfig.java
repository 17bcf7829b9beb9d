package org.sover.storage.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration PID {@code org.sover.storage}, shared by the metadata database and the blob store. */
@ObjectClassDefinition(name = "Sover storage",
        description = "Embedded Derby metadata database and the encrypted blob store on disk")
public @interface StorageConfig {
    @AttributeDefinition(description = "Data directory holding db/ and blobs/; empty means the node's data "
            + "directory (sover.data, or karaf.data/../sover)")
    String dataDir() default "";

    @AttributeDefinition(description = "Derby page cache size in pages (4 KiB to 32 KiB each); read when the "
            + "database boots", min = "40")
    int derbyPageCacheSize() default 1000;

    @AttributeDefinition(description = "Maximum number of open database connections", min = "1")
    int connectionPoolSize() default 8;

    @AttributeDefinition(description = "Free bytes the blob store leaves on its volume; uploads are refused "
            + "below this reserve", min = "0")
    long minFreeBytes() default 64L * 1024 * 1024;
}
