package dev.mnemo.node;

import dev.mnemo.index.RecallHit;
import dev.mnemo.store.model.Memory;

/** A recall hit joined with its memory. */
public record Recalled(RecallHit hit, Memory memory) {}
