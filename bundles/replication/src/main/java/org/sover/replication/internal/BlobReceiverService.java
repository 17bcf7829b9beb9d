package org.sover.replication.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.replication.Bandwidth;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.InsufficientStorageException;
import org.sover.api.storage.PendingBlob;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of every transport (docs/PROTOCOL.md, "Blobs"): the manifest must be
 * signed by its origin, the bytes must have the manifest's size and SHA-256, and only then is
 * the blob committed (atomically, by the store) and recorded.
 */
@Component(service = BlobReceiver.class, immediate = true, configurationPid = "org.sover.replication")
public final class BlobReceiverService implements BlobReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(BlobReceiverService.class);
    private final BlobStore blobs;
    private final VaultRepository repository;
    private final NodeIdentity identity;
    private final PeerStore peers;
    private final SignatureVerifier signatures;
    private final Monitor monitor;
    private final Bandwidth bandwidth;
    private volatile ReplicationConfig config;

    @Activate
    public BlobReceiverService(@Reference BlobStore blobs, @Reference VaultRepository repository,
            @Reference NodeIdentity identity, @Reference PeerStore peers, @Reference SignatureVerifier signatures,
            @Reference Monitor monitor, ReplicationConfig config) {
        this.monitor = monitor;
        this.config = config;
        this.bandwidth = new Bandwidth(() -> Math.max(0, this.config.maxReceiveKiBps()) * 1024);
        this.blobs = blobs;
        this.repository = repository;
        this.identity = identity;
        this.peers = peers;
        this.signatures = signatures;
    }

    @Modified
    void modified(ReplicationConfig newConfig) {
        this.config = newConfig;
    }

    @Override
    public boolean has(String blobId) {
        Optional<BlobRecord> record = repository.blob(blobId);
        return record.isPresent() && blobs.size(blobId) == record.get().manifest().cipherSize();
    }

    @Override
    public Delivery receive(String senderNodeId, BlobRecord record, InputStream ciphertext)
            throws BlobRejectedException, IOException {
        BlobManifest m = record.manifest();
        checkManifest(record);
        if (config.pauseIncoming()) {
            throw new BlobRejectedException(503, "paused", "Node " + identity.nodeId()
                    + " is not taking blobs right now (incoming transfers are paused); it will take them later.");
        }
        if (has(m.blobId())) {
            // Sent again (the sender did not see our last answer): nothing to store.
            return new Delivery(m.blobId(), m.cipherSize(), m.cipherSha256(), null);
        }
        if (blobs.usableSpace() < m.cipherSize()) {
            throw new BlobRejectedException(507, "insufficient_storage", "Node " + identity.nodeId()
                    + " has no room for " + m.cipherSize() + " more bytes.");
        }
        long existing = blobs.size(m.blobId());
        if (existing >= 0 && existing != m.cipherSize()) {
            // A damaged copy without a valid record (dropped by the worker or the scrub): the
            // verified bytes below replace it.
            blobs.delete(m.blobId());
        }
        MessageDigest sha = sha256();
        long received;
        try (PendingBlob pending = blobs.create()) {
            received = copy(bandwidth.wrap(ciphertext), pending.output(), sha, m.cipherSize());
            String hash = HexFormat.of().formatHex(sha.digest());
            if (received != m.cipherSize() || !hash.equals(m.cipherSha256())) {
                // close() discards the pending data: nothing partial is ever stored under the id.
                throw new BlobRejectedException(422, "hash_mismatch", "Blob " + m.blobId() + " arrived with "
                        + received + " bytes and SHA-256 " + hash + ", but its manifest says " + m.cipherSize()
                        + " bytes and " + m.cipherSha256() + "; it was discarded.");
            }
            // File and record under the blob's lock: a clean-up of the same id cannot come between.
            java.util.concurrent.locks.Lock lock = blobs.lockOf(m.blobId());
            lock.lock();
            try {
                if (!pending.commit(m.blobId()) && blobs.size(m.blobId()) != m.cipherSize()) {
                    throw new IOException("another copy of blob " + m.blobId() + " appeared while this one arrived"
                            + " and it is not complete; send it again");
                }
                if (repository.putBlobRecord(record)) {
                    LOG.debug("received blob {} ({} bytes) from node {}", m.blobId(), received, senderNodeId);
                }
            } finally {
                lock.unlock();
            }
        } catch (InsufficientStorageException e) {
            throw new BlobRejectedException(507, "insufficient_storage", e.getMessage());
        }
        monitor.received(senderNodeId, received);
        monitor.post(ReplicationEvents.BLOB, Map.of(ReplicationEvents.BLOB_ID, m.blobId(),
                ReplicationEvents.PEER_ID, senderNodeId));
        return new Delivery(m.blobId(), received, m.cipherSha256(), null);
    }

    /** The origin must be this node or a pinned peer, and its signature over the manifest must verify. */
    void checkManifest(BlobRecord record) throws BlobRejectedException {
        BlobManifest m = record.manifest();
        byte[] originKey;
        if (m.originNodeId().equals(identity.nodeId())) {
            originKey = identity.publicKey();
        } else {
            originKey = peers.peer(m.originNodeId()).map(Peer::publicKey).orElseThrow(() -> new BlobRejectedException(
                    422, "unknown_origin", "Blob " + m.blobId() + " was made by node " + m.originNodeId()
                            + ", which is not paired with this node, so its manifest cannot be checked."));
        }
        if (record.signature() == null || !signatures.verify(originKey, m.canonicalBytes(), record.signature())) {
            throw new BlobRejectedException(422, "bad_manifest", "The manifest of blob " + m.blobId()
                    + " is not signed by its origin node " + m.originNodeId() + ".");
        }
        if (m.cipherSize() < 0 || m.size() < 0 || m.cipherSha256().length() != 64) {
            throw new BlobRejectedException(422, "bad_manifest", "The manifest of blob " + m.blobId() + " is malformed.");
        }
    }

    /** Copies at most {@code limit} + 1 bytes (one more shows the stream was too long). */
    private static long copy(InputStream in, OutputStream out, MessageDigest sha, long limit) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        int n;
        while (total <= limit && (n = in.read(buf, 0, (int) Math.min(buf.length, limit + 1 - total))) > 0) {
            sha.update(buf, 0, n);
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
