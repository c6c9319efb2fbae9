package dev.wscrt.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension for test classes that make native resources without a {@link Testbed}: a
 * {@link NativeMemory#snapshot() snapshot} before all tests of the class, and native memory back to it
 * after all of them (after the class's own {@code @AfterAll} methods), so that a leak fails the class.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final NativeMemoryCheck nativeMemory = new NativeMemoryCheck();
 * }</pre>
 */
public final class NativeMemoryCheck implements BeforeAllCallback, AfterAllCallback {
    private NativeMemory.Snapshot baseline;

    @Override
    public void beforeAll(ExtensionContext context) {
        baseline = NativeMemory.snapshot();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        NativeMemory.assertBackTo(baseline);
    }
}
