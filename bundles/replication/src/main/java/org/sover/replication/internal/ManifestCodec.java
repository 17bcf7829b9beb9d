package org.sover.replication.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.sover.api.crypto.BlobManifest;
import org.sover.api.vault.BlobRecord;

/**
 * A blob record on the wire: the manifest's canonical (signed) bytes and the origin's
 * signature, each base64url. Sending exactly the signed bytes leaves nothing to re-encode
 * differently on the other side.
 */
final class ManifestCodec {
    private ManifestCodec() {
    }

    static String manifest(BlobRecord record) {
        return SignedHeaders.B64.encodeToString(record.manifest().canonicalBytes());
    }

    static String signature(BlobRecord record) {
        return SignedHeaders.B64.encodeToString(record.signature());
    }

    /** @throws IllegalArgumentException when either part is malformed */
    static BlobRecord decode(String manifest, String signature) {
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
