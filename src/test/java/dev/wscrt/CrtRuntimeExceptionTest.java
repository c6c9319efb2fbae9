package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.wscrt.testing.NativeMemoryCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every native error has a stable code, a name and a message, and Java sees all three. */
class CrtRuntimeExceptionTest {

    /** One X(NAME, 0xCODE, "message") entry of WSCRT_ERROR_LIST in crt/common/error.h. */
    private record NativeError(String name, int code, String message) {
    }

    @RegisterExtension
    static final NativeMemoryCheck nativeMemory = new NativeMemoryCheck();

    /** Reads the error table from the C header, the single source of truth. */
    private static List<NativeError> nativeErrorTable() throws IOException {
        Path header = Path.of(System.getProperty("basedir", "."), "crt", "common", "error.h");
        String text = Files.readString(header).replace("\\\n", " ");
        Matcher m = Pattern.compile("X\\(\\s*(WSCRT_ERROR_\\w+)\\s*,\\s*(0x[0-9A-Fa-f]+)\\s*,\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*\\)")
                .matcher(text);
        List<NativeError> errors = new ArrayList<>();
        while (m.find()) {
            errors.add(new NativeError(m.group(1), Integer.decode(m.group(2)), m.group(3).replace("\\\"", "\"")));
        }
        return errors;
    }

    @Test
    void theGeneratedJavaTableHoldsExactlyTheNativeTable() throws IOException {
        List<NativeError> table = nativeErrorTable();
        assertEquals(table.size(), CrtError.values().length);
        for (NativeError e : table) {
            CrtError error = CrtError.of(e.code());
            assertEquals(e.name(), error.errorName());
            assertEquals(e.message(), error.message());
            assertEquals(error, new CrtRuntimeException(e.code()).error());
        }
        assertEquals(CrtError.UNKNOWN, CrtError.of(0x7FFF));
    }

    @Test
    void everyErrorInTheNativeTableHasItsNameCodeAndMessage() throws IOException {
        List<NativeError> table = nativeErrorTable();
        assertTrue(table.size() > 50, "parsed the error table: " + table.size() + " entries");
        Set<Integer> codes = new HashSet<>();
        for (NativeError e : table) {
            assertTrue(codes.add(e.code()), "codes are unique: " + e);
            CrtRuntimeException ex = new CrtRuntimeException(e.code());
            assertEquals(e.code(), ex.errorCode(), e.name());
            assertEquals(e.name(), ex.errorName(), "name of 0x" + Integer.toHexString(e.code()));
            assertTrue(ex.getMessage().contains(e.message()),
                    e.name() + ": message '" + ex.getMessage() + "' should contain '" + e.message() + "'");
        }
    }

    @Test
    void websocketErrorsCarryTheirNames() {
        assertEquals("WSCRT_ERROR_WEBSOCKET_MASKED_FRAME", new CrtRuntimeException(0x1007).errorName());
        assertTrue(new CrtRuntimeException(0x1007).getMessage().contains("Server-sent frames must not be masked."));
        assertEquals("WSCRT_ERROR_WEBSOCKET_UPGRADE_FAILURE", new CrtRuntimeException(0x1000).errorName());
    }

    @Test
    void unknownCodeIsNamedUnknown() {
        CrtRuntimeException e = new CrtRuntimeException(0x7FFF);
        assertEquals(0x7FFF, e.errorCode());
        assertEquals("WSCRT_ERROR_UNKNOWN", e.errorName());
        assertNotEquals(null, e.getMessage());
    }

    @Test
    void causeIsKept() {
        IllegalStateException cause = new IllegalStateException("user code");
        CrtRuntimeException e = new CrtRuntimeException(0x000C, cause);
        assertSame(cause, e.getCause());
        assertEquals("WSCRT_ERROR_CALLBACK_EXCEPTION", e.errorName());
    }

    @Test
    void isAnUncheckedException() {
        assertTrue(RuntimeException.class.isAssignableFrom(CrtRuntimeException.class));
    }
}
