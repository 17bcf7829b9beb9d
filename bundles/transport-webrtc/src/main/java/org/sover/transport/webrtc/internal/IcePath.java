package org.sover.transport.webrtc.internal;

import java.util.Map;

import dev.onvoid.webrtc.RTCStats;
import dev.onvoid.webrtc.RTCStatsReport;
import dev.onvoid.webrtc.RTCStatsType;

/** The selected ICE candidate pair of a connection, read from its stats report. */
record IcePath(String path, Long rttMillis, long bytesSent, long bytesReceived) {

    /** Null when the report has no selected (succeeded) pair yet. */
    static IcePath of(RTCStatsReport report) {
        Map<String, RTCStats> stats = report.getStats();
        RTCStats pair = null;
        for (RTCStats s : stats.values()) {
            if (s.getType() == RTCStatsType.TRANSPORT) {
                Object selected = s.getAttributes().get("selectedCandidatePairId");
                if (selected != null && stats.get(selected.toString()) != null) {
                    pair = stats.get(selected.toString());
                }
            }
        }
        if (pair == null) {
            for (RTCStats s : stats.values()) {
                Map<String, Object> a = s.getAttributes();
                if (s.getType() == RTCStatsType.CANDIDATE_PAIR && "succeeded".equals(String.valueOf(a.get("state")))
                        && (pair == null || Boolean.TRUE.equals(a.get("nominated")))) {
                    pair = s;
                }
            }
        }
        if (pair == null) {
            return null;
        }
        Map<String, Object> a = pair.getAttributes();
        String local = candidateType(stats, a.get("localCandidateId"));
        String remote = candidateType(stats, a.get("remoteCandidateId"));
        Object rtt = a.get("currentRoundTripTime");
        Long rttMillis = rtt instanceof Number n ? Math.round(n.doubleValue() * 1000) : null;
        return new IcePath(pathOf(local, remote), rttMillis, number(a.get("bytesSent")), number(a.get("bytesReceived")));
    }

    /** "relay" if either end relays, else "srflx" if either is (server or peer) reflexive, else "host". */
    static String pathOf(String localType, String remoteType) {
        if ("relay".equals(localType) || "relay".equals(remoteType)) {
            return "relay";
        }
        if ("srflx".equals(localType) || "srflx".equals(remoteType) || "prflx".equals(localType)
                || "prflx".equals(remoteType)) {
            return "srflx";
        }
        return localType == null && remoteType == null ? null : "host";
    }

    private static String candidateType(Map<String, RTCStats> stats, Object id) {
        RTCStats c = id == null ? null : stats.get(id.toString());
        Object type = c == null ? null : c.getAttributes().get("candidateType");
        return type == null ? null : type.toString();
    }

    private static long number(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        try {
            return o == null ? 0 : Long.parseLong(o.toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
