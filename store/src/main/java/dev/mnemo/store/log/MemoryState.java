package dev.mnemo.store.log;

/** What a namespace's state says of a memory: added and live, forgotten, or never seen. */
public enum MemoryState {
  LIVE,
  FORGOTTEN,
  UNKNOWN
}
