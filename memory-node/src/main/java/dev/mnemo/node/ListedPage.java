package dev.mnemo.node;

import java.util.List;

/** A page of live memories and the cursor of the next page (null: this was the last). */
public record ListedPage(List<MemoryVersion> memories, String next) {}
