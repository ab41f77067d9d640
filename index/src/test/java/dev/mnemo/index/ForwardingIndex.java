package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.util.List;

/** Passes every call to the real index; tests override what they need to hold up. */
class ForwardingIndex implements MemoryIndex {
  private final MemoryIndex real;

  ForwardingIndex(MemoryIndex real) {
    this.real = real;
  }

  @Override public void add(List<IndexedMemory> memories) throws IOException { real.add(memories); }
  @Override public void addNew(List<IndexedMemory> memories) throws IOException { real.addNew(memories); }
  @Override public void remove(String ns, List<Cid> memories) throws IOException { real.remove(ns, memories); }
  @Override public void invalidated(Cid memory, long invalidatedAt) throws IOException { real.invalidated(memory, invalidatedAt); }
  @Override public boolean isEmpty() throws IOException { return real.isEmpty(); }
  @Override public void markApplied(long position) { real.markApplied(position); }
  @Override public long appliedPosition() { return real.appliedPosition(); }
  @Override public void refresh() throws IOException { real.refresh(); }
  @Override public void commit() throws IOException { real.commit(); }
  @Override public void clear() throws IOException { real.clear(); }
  @Override public int size() throws IOException { return real.size(); }
  @Override public int segmentCount() throws IOException { return real.segmentCount(); }
  @Override public boolean optimize() throws IOException { return real.optimize(); }
  @Override public RecallResult recall(RecallQuery query) throws IOException { return real.recall(query); }
  @Override public void close() throws IOException { real.close(); }
}
