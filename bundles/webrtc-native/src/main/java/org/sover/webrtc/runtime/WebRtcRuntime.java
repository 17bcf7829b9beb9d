package org.sover.webrtc.runtime;

import java.util.Optional;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;

/**
 * The one {@link PeerConnectionFactory} of this JVM (docs: shared/notes/webrtc-java.md). Each
 * factory create/dispose leaks native threads and memory, and every load of the library costs
 * 23 MB, so it lives here, in a bundle that is rarely refreshed, and transports only borrow it:
 * they must never dispose it. Created on first use, with a headless audio module because the
 * default one aborts the JVM when no sound server runs.
 */
@Component(service = WebRtcRuntime.class)
public final class WebRtcRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(WebRtcRuntime.class);

    private HeadlessAudioDeviceModule audio;
    private PeerConnectionFactory factory;
    /** Why the native library could not be loaded; once set, loading is not tried again (a failed class init stays failed). */
    private volatile String loadError;
    private volatile boolean closed;

    /**
     * The shared factory, created (and the native library loaded) on the first call.
     *
     * @throws IllegalStateException when the native library cannot be loaded on this machine (the message says what to
     *         install) or this runtime is stopping
     */
    public synchronized PeerConnectionFactory factory() {
        if (closed) {
            throw new IllegalStateException("the WebRTC runtime is stopping");
        }
        if (loadError != null) {
            throw new IllegalStateException(loadError);
        }
        if (factory == null) {
            long started = System.nanoTime();
            HeadlessAudioDeviceModule adm = null;
            try {
                adm = new HeadlessAudioDeviceModule();
                factory = new PeerConnectionFactory(adm);
                audio = adm;
                LOG.info("WebRTC native library loaded and peer connection factory created in {} ms",
                        (System.nanoTime() - started) / 1_000_000);
            } catch (Throwable t) { // UnsatisfiedLinkError, ExceptionInInitializerError, NoClassDefFoundError, ...
                if (adm != null) {
                    try {
                        adm.dispose();
                    } catch (Throwable ignored) {
                        // the module is unusable anyway
                    }
                }
                loadError = describeLoadFailure(t);
                LOG.error(loadError, t);
                throw new IllegalStateException(loadError, t);
            }
        }
        return factory;
    }

    /** Why WebRTC cannot work on this machine, when loading was tried and failed; empty otherwise. Never blocks. */
    public Optional<String> loadError() {
        return Optional.ofNullable(loadError);
    }

    /** True unless loading the native library failed or the runtime stopped (not yet loaded counts as usable). Never blocks. */
    public boolean usable() {
        return loadError == null && !closed;
    }

    /** Disposes the factory, then the audio module (the order that never crashed). Transports have closed their connections by now. */
    @Deactivate
    public synchronized void close() {
        closed = true;
        if (factory != null) {
            try {
                factory.dispose();
            } catch (Throwable t) {
                LOG.warn("disposing the WebRTC peer connection factory failed", t);
            }
            factory = null;
        }
        if (audio != null) {
            try {
                audio.dispose();
            } catch (Throwable t) {
                LOG.warn("disposing the WebRTC audio device module failed", t);
            }
            audio = null;
        }
    }

    static String describeLoadFailure(Throwable t) {
        StringBuilder causes = new StringBuilder();
        for (Throwable c = t; c != null && causes.length() < 600; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && !m.isBlank() && causes.indexOf(m) < 0) {
                causes.append(causes.length() == 0 ? "" : ": ").append(m);
            }
            if (c.getCause() == c) {
                break;
            }
        }
        String why = causes.length() == 0 ? t.getClass().getName() : causes.toString();
        String arch = System.getProperty("os.name") + " " + System.getProperty("os.arch");
        return "WebRTC is not available on this node (" + arch + "): the native library did not load (" + why
                + "). Peers are still reached over HTTP. To enable WebRTC install the libraries it links against"
                + " (Debian/Ubuntu: apt-get install libpulse0 libudev1 libx11-6 libxfixes3 libxrandr2 libxcomposite1"
                + " libdbus-1-3), make sure java.io.tmpdir (" + System.getProperty("java.io.tmpdir")
                + ") is on a file system that allows executing files (not mounted noexec), and use a supported platform"
                + " (Linux x86_64 or aarch64); then restart the node.";
    }
}
