package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NativeLoaderTest {

    @Test
    void thisMachineIsLinuxX8664() {
        assertEquals("linux-x86_64", NativeLoader.platform());
    }

    @Test
    void unsupportedPlatformFailsWithOneClearErrorNamingItAndTheOverride() {
        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLoader.loadFromJar("plan9-mips"));
        assertTrue(error.getMessage().contains("'plan9-mips'"), error.getMessage());
        assertTrue(error.getMessage().contains("-Dwscrt.lib.path="), error.getMessage());
    }

    @Test
    void theJarCarriesTheLibraryForThisPlatform() {
        assertTrue(NativeLoader.class.getResource("/native/linux-x86_64/libwscrt-jni.so") != null);
    }
}
