package dev.mnemo.node.sync;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** Prints the log tail of every node the test class started when one of its tests fails. */
final class NodeLogsOnFailure implements BeforeAllCallback, TestWatcher {
  @Override
  public void beforeAll(ExtensionContext context) {
    NodeProcess.REGISTRY.clear();
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    StringBuilder out = new StringBuilder("==== " + context.getDisplayName() + " failed: node logs ====\n");
    for (NodeProcess node : NodeProcess.REGISTRY) {
      out.append(node.logTail(150)).append('\n');
    }
    System.err.println(out);
  }
}
