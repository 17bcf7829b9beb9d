package org.sover.replication.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Sover replication and pairing")
public @interface ReplicationConfig {
    @AttributeDefinition(description = "This node's name as its peers show it; empty: the host name")
    String name() default "";

    @AttributeDefinition(description = "Base URLs peers reach this node at (e.g. http://nas.local:8181); empty: worked out from the HTTP port and the machine's addresses")
    String[] addresses() default {};

    @AttributeDefinition(description = "How far a signed request's time may be from this node's clock, in seconds")
    long clockSkewSeconds() default 300;

    @AttributeDefinition(description = "How long a pairing line stays valid, in minutes")
    long pairingMinutes() default 15;

    @AttributeDefinition(description = "How often to pull each family node's metadata op log, in seconds")
    long pullIntervalSeconds() default 5;

    @AttributeDefinition(description = "How many blobs this node sends at the same time (to all peers together)")
    int parallelTransfers() default 8;

    @AttributeDefinition(description = "How long one attempt may take before its job counts as abandoned, in seconds")
    long leaseSeconds() default 1800;

    @AttributeDefinition(description = "How often to look for blobs this node misses or holds damaged, in seconds; 0 = never")
    long repairIntervalSeconds() default 60;

    @AttributeDefinition(description = "How often every stored blob is re-hashed against its manifest, in seconds (default: daily); 0 = never")
    long scrubIntervalSeconds() default 86400;

    @AttributeDefinition(description = "Stop taking blobs from peers (they retry later); the switch is also on the dashboard")
    boolean pauseIncoming() default false;

    @AttributeDefinition(description = "Limit on sending blobs, in KiB per second for all peers together; 0 = none")
    long maxSendKiBps() default 0;

    @AttributeDefinition(description = "Limit on receiving blobs, in KiB per second for all peers together; 0 = none")
    long maxReceiveKiBps() default 0;

    @AttributeDefinition(description = "Stop sending blobs to peers (jobs wait, pending); the switch is also on the dashboard")
    boolean pauseOutgoing() default false;
}
