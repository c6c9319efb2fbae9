package dev.wscrt.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wscrt.testing.Hex;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The suite's UTF-8 reference: where bytes stop being a prefix of valid UTF-8. */
class Utf8Test {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "'68 65 6c 6c 6f', -1",
        "'ce ba e1 bd b9 cf 83 ce bc ce b5', -1",
        "'f4 8f bf bf', -1",
        "'ef bf bf', -1",
        "'80', 0",
        "'c0 af', 0",
        "'c1 bf', 0",
        "'e0 9f bf', 1",
        "'ed a0 80', 1",
        "'f0 8f bf bf', 1",
        "'f4 90 80 80', 1",
        "'f5 80 80 80', 0",
        "'61 ce 41', 2",
        "'ce', 1",
        "'f0 9f 98', 3",
    })
    void invalidAtIsTheFirstByteNoContinuationCanSave(String hex, int expected) {
        assertEquals(expected, Utf8.invalidAt(Hex.bytes(hex)));
    }
}
