package org.sover.api.replication;

/**
 * A receiver's acknowledgement of a blob: what it stored, as it measured it (size and SHA-256
 * of the ciphertext), and the network path the bytes took ("lan", "direct", "host", "srflx",
 * "relay"; null when the transport cannot tell).
 */
public record Delivery(String blobId, long size, String cipherSha256, String path) {
}
