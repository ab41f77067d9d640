package dev.mnemo.store.log;

/** What a namespace's state says of a memory: added and live, forgotten, never seen, or void. */
public enum MemoryState {
  LIVE,
  FORGOTTEN,
  UNKNOWN,
  /**
   * Stored, but added only by void entries (their author's ability was revoked concurrently): not
   * live, never returned by reads; its block stays here for peers that apply those entries.
   */
  VOID
}
