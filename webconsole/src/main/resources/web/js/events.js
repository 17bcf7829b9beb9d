// Live events from the node (GET /v1/events, server-sent events). One EventSource for the whole
// page, opened while at least one view listens: the node serves at most 64 streams, so every
// open tab must count once, not once per view.
import { api } from './api.js';

const EVENT_TYPES = ['hello', 'job', 'jobs', 'peer', 'blob', 'diag'];

const listeners = new Map(); // type -> Set of functions
const stateListeners = new Set();
let source = null;
let reopenTimer = null;
let failures = 0;
let allowed = false;
let connection = 'closed'; // 'connecting' | 'live' | 'closed'
let lingerTimer = null;
// Moving from one live page to the next drops every listener for a moment; keep the stream that
// long instead of reconnecting (and missing events) on each navigation.
const LINGER_MS = 10000;

function setConnection(next) {
  if (connection === next) return;
  connection = next;
  for (const fn of stateListeners) fn(connection);
}

function listenerCount() {
  let n = 0;
  for (const set of listeners.values()) n += set.size;
  return n + stateListeners.size;
}

function dispatch(type, event) {
  let data = {};
  try {
    data = event.data ? JSON.parse(event.data) : {};
  } catch (_) {
    return; // a message that is not JSON carries nothing a view could use
  }
  for (const fn of [...(listeners.get(type) || [])]) {
    try {
      fn(data);
    } catch (error) {
      console.warn('live event listener failed', error);
    }
  }
}

function open() {
  clearTimeout(lingerTimer);
  lingerTimer = null;
  if (source || !allowed || listenerCount() === 0) return;
  clearTimeout(reopenTimer);
  reopenTimer = null;
  setConnection('connecting');
  source = new EventSource('/v1/events');
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (event) => {
      if (type === 'hello') {
        failures = 0;
        setConnection('live');
      }
      dispatch(type, event);
    });
  }
  source.addEventListener('error', () => {
    if (!source) return;
    // CONNECTING: the browser retries by itself (the stream asks for 5 s). CLOSED: the node
    // answered with an error (401 after the session ended, 503 when it serves too many streams),
    // so the browser gave up; try again later, slower each time.
    if (source.readyState === EventSource.CONNECTING) {
      setConnection('connecting');
      return;
    }
    source.close();
    source = null;
    setConnection('closed');
    scheduleReopen();
  });
}

function scheduleReopen() {
  if (reopenTimer || !allowed) return;
  failures++;
  const seconds = Math.min(120, 5 * 2 ** Math.min(failures - 1, 5));
  reopenTimer = setTimeout(async () => {
    reopenTimer = null;
    try {
      // A 401 here tells the app the session is over (and stops the stream through stopEvents).
      const session = await api.session();
      if (session && session.authenticated === false) {
        window.dispatchEvent(new CustomEvent('sover:unauthenticated'));
        return;
      }
    } catch (_) { /* the node is unreachable: try the stream anyway, it reports again */ }
    open();
  }, seconds * 1000);
}

function closeIfUnused() {
  if (listenerCount() > 0 || lingerTimer) return;
  lingerTimer = setTimeout(() => {
    lingerTimer = null;
    if (listenerCount() > 0) return;
    clearTimeout(reopenTimer);
    reopenTimer = null;
    if (source) {
      source.close();
      source = null;
    }
    setConnection('closed');
  }, LINGER_MS);
}

/**
 * Calls fn(data) for each event of a type ('hello', 'job', 'jobs', 'peer', 'blob', 'diag').
 * A 'hello' follows every (re)connection: the stream does not replay what it missed, so views
 * refresh on it. Returns the function that stops listening.
 */
export function onEvent(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  open();
  return () => {
    const set = listeners.get(type);
    if (set) set.delete(fn);
    closeIfUnused();
  };
}

/** fn('connecting' | 'live' | 'closed') on every change of the stream; called once at once. */
export function onConnectionChange(fn) {
  stateListeners.add(fn);
  fn(connection);
  open();
  return () => {
    stateListeners.delete(fn);
    closeIfUnused();
  };
}

/** 'connecting' | 'live' | 'closed' */
export function connectionState() {
  return connection;
}

/** Allowed once someone is signed in; stopped when the session ends. */
export function startEvents() {
  allowed = true;
  failures = 0;
  open();
}

export function stopEvents() {
  allowed = false;
  clearTimeout(lingerTimer);
  lingerTimer = null;
  clearTimeout(reopenTimer);
  reopenTimer = null;
  if (source) {
    source.close();
    source = null;
  }
  setConnection('closed');
}

/**
 * Collects calls and runs fn once, `wait` ms after the first of them, so a burst of events
 * becomes one refresh (and a steady stream one refresh per `wait`). Returns a function with .cancel().
 */
export function coalesce(fn, wait) {
  let timer = null;
  const run = () => {
    timer = null;
    fn();
  };
  const coalesced = () => {
    if (timer === null) timer = setTimeout(run, wait);
  };
  coalesced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return coalesced;
}
