/** Signaling between nodes (offers, answers, ICE candidates) and the ICE servers to use. */
package org.sover.api.signal;
