package org.sover.api.replication;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.vault.BlobRecord;

/**
 * The parts of the node-to-node HTTP protocol (docs/PROTOCOL.md) that more than one bundle
 * speaks: the blob path and a blob record on the wire, as the manifest's canonical (signed)
 * bytes and the origin's signature, each base64url. Sending exactly the signed bytes leaves
 * nothing to re-encode differently on the other side.
 */
public final class NodeProtocol {
    /** {@code PUT} (a push) and {@code GET} (repair) of one blob: this prefix and the blob id. */
    public static final String BLOBS_PATH = "/node/v1/blobs/";
    /** The manifest of a blob answered to a {@code GET}. */
    public static final String MANIFEST_HEADER = "X-Sover-Manifest";
    public static final String MANIFEST_SIGNATURE_HEADER = "X-Sover-Manifest-Signature";

    private NodeProtocol() {
    }

    public static String manifest(BlobRecord record) {
        return SignedHeaders.B64.encodeToString(record.manifest().canonicalBytes());
    }

    public static String signature(BlobRecord record) {
        return SignedHeaders.B64.encodeToString(record.signature());
    }

    /** The query of a blob push: {@code manifest=...&signature=...}. */
    public static String pushQuery(BlobRecord record) {
        return "manifest=" + manifest(record) + "&signature=" + signature(record);
    }

    /**
     * The record a peer sent; its signature is not checked here (the receiver does that).
     *
     * @throws IllegalArgumentException when either part is malformed
     */
    public static BlobRecord decode(String manifest, String signature) {
        if (manifest == null || signature == null || manifest.length() > 2048 || signature.length() > 256) {
            throw new IllegalArgumentException("a blob manifest and its signature are required");
        }
        String text = new String(SignedHeaders.B64D.decode(manifest), StandardCharsets.UTF_8);
        String[] f = text.split("\n", -1);
        if (f.length != 9 || !f[0].equals("sover-manifest-v1") || !f[8].isEmpty()) {
            throw new IllegalArgumentException("the blob manifest is not a sover-manifest-v1");
        }
        BlobManifest m = new BlobManifest(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Integer.parseInt(f[4]),
                f[5], f[6], Instant.ofEpochMilli(Long.parseLong(f[7])));
        return new BlobRecord(m, SignedHeaders.B64D.decode(signature));
    }
}
