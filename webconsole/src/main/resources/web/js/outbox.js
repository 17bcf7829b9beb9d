// The upload outbox on this device (IndexedDB): every file the node has not acknowledged yet, with
// its bytes, so it survives a reload or a closed tab and is sent again with the same
// Idempotency-Key. Two stores, so updating an entry's state never rewrites its bytes:
//   entries  {key, userId, albumId, albumName, name, type, size, lastModified, addedAt, state, message, attempts}
//   blobs    key -> the File or Blob itself

const DB_NAME = 'sover-outbox';
const DB_VERSION = 1;

let dbPromise = null;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('outbox transaction aborted'));
  });
}

/** The database, or a rejected promise where IndexedDB is missing (some private windows). */
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') {
        reject(new Error('IndexedDB is not available'));
        return;
      }
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const database = request.result;
        if (!database.objectStoreNames.contains('entries')) {
          database.createObjectStore('entries', { keyPath: 'key' }).createIndex('userId', 'userId');
        }
        if (!database.objectStoreNames.contains('blobs')) database.createObjectStore('blobs');
      };
      request.onsuccess = () => {
        const database = request.result;
        // Another tab upgrading the schema: step aside rather than block it.
        database.onversionchange = () => {
          database.close();
          dbPromise = null;
        };
        resolve(database);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('The outbox is blocked by another tab.'));
    });
    dbPromise.catch(() => {
      dbPromise = null;
    });
  }
  return dbPromise;
}

/** Stores a new entry with its bytes (one transaction: both or neither). */
export async function saveEntry(entry, blob) {
  const database = await db();
  const tx = database.transaction(['entries', 'blobs'], 'readwrite');
  tx.objectStore('entries').put(entry);
  tx.objectStore('blobs').put(blob, entry.key);
  await done(tx);
}

/** Changes an entry's state, message or attempts; its bytes stay as they are. */
export async function updateEntry(key, changes) {
  const database = await db();
  const tx = database.transaction('entries', 'readwrite');
  const store = tx.objectStore('entries');
  const entry = await promisify(store.get(key));
  if (entry) store.put({ ...entry, ...changes });
  await done(tx);
}

export async function removeEntry(key) {
  const database = await db();
  const tx = database.transaction(['entries', 'blobs'], 'readwrite');
  tx.objectStore('entries').delete(key);
  tx.objectStore('blobs').delete(key);
  await done(tx);
}

/** A user's entries, oldest first, each with its bytes as `blob` (null when they went missing). */
export async function loadEntries(userId) {
  const database = await db();
  const tx = database.transaction(['entries', 'blobs'], 'readonly');
  const entries = await promisify(tx.objectStore('entries').index('userId').getAll(userId));
  const blobs = tx.objectStore('blobs');
  const withBlobs = await Promise.all(entries.map(async (entry) => ({
    ...entry, blob: (await promisify(blobs.get(entry.key))) || null,
  })));
  return withBlobs.sort((a, b) => (a.addedAt || 0) - (b.addedAt || 0));
}
