package dev.wscrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Platform detection, and extraction as seen from outside: each extraction test loads the library in a
 * fresh JVM ({@link CrtProbe}) whose {@code java.io.tmpdir} is a test directory, and reads that JVM's
 * {@code /proc/<pid>/maps} to see which file it mapped.
 */
class NativeLoaderTest {
    /** The library the build put in the jar for the platform this JVM runs on (x86-64, or aarch64 under qemu). */
    private static final Path JAR_LIBRARY = Path.of("target/classes/native", NativeLoader.platform(
            System.getProperty("os.name", ""), System.getProperty("os.arch", ""), NativeLoader.runningLibc()),
            "libwscrt-jni.so");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"amd64, linux-x86_64", "x86_64, linux-x86_64", "aarch64, linux-aarch64", "arm64, linux-aarch64"})
    void linuxArchitectureNamesMapToTheJarPlatforms(String osArch, String platform) {
        assertEquals(platform, NativeLoader.platform("Linux", osArch, NativeLoader.Libc.GLIBC));
    }

    @ParameterizedTest
    @CsvSource({
        "Mac OS X,   aarch64, GLIBC, macos-aarch64",
        "Windows 11, amd64,   GLIBC, windows-x86_64",
        "Linux,      amd64,   MUSL,  linux-x86_64 (musl libc)",
        "Linux,      aarch64, MUSL,  linux-aarch64 (musl libc)",
        "Linux,      riscv64, GLIBC, linux-riscv64",
        "FreeBSD,    amd64,   GLIBC, freebsd-x86_64",
    })
    void unsupportedPlatformFailsWithOneErrorNamingThePlatformFoundAndThoseSupported(
            String osName, String osArch, NativeLoader.Libc libc, String found) {
        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLoader.platform(osName, osArch, libc));
        String message = error.getMessage();
        assertTrue(message.contains("found " + found + " (os.name=" + osName + ", os.arch=" + osArch + ")"), message);
        assertTrue(message.contains("supported: linux-x86_64, linux-aarch64 with glibc"), message);
        assertTrue(message.contains("-Dwscrt.lib.path="), message);
    }

    @Test
    void muslIsRecognisedFromTheLibrariesMappedIntoTheProcess() {
        assertEquals(NativeLoader.Libc.MUSL, NativeLoader.libcOf(
                "7f10a0000000-7f10a0014000 r--p 00000000 08:01 1234 /lib/ld-musl-x86_64.so.1\n"));
        assertEquals(NativeLoader.Libc.GLIBC, NativeLoader.libcOf(
                "7f10a0000000-7f10a0028000 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6\n"));
        assertEquals(NativeLoader.Libc.GLIBC, NativeLoader.runningLibc(), "this JVM runs on glibc");
    }

    @Test
    void aPlatformTheJarLacksNamesWhatTheJarHolds() {
        // As in the linux-x86_64 classifier jar: only that platform's library is there.
        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.loadFromJar(
                "linux-aarch64", name -> name.contains("/linux-x86_64/") ? NativeLoader.class.getResource(name) : null));
        assertTrue(error.getMessage().contains("no native library for linux-aarch64"), error.getMessage());
        assertTrue(error.getMessage().contains("it holds [linux-x86_64]"), error.getMessage());
    }

    @Test
    void theLibraryIsUnlinkedOnceLoadedSoNothingIsLeftAfterKill9() throws Exception {
        try (CrtProbe probe = probe()) {
            String mapped = probe.mappedLibrary();
            assertTrue(mapped.endsWith(".so (deleted)"), "the mapped library is already unlinked: " + mapped);
            assertTrue(mapped.contains("/wscrt-"), mapped);
            assertEquals(List.of(), filesUnder(tmp), "nothing on disk while the JVM runs");
            probe.kill9();
        }
        assertEquals(List.of(), filesUnder(tmp), "nothing on disk after kill -9");
    }

    @Test
    void aCopyWithTheSameContentIsLoadedAsItIsNotRewritten() throws Exception {
        Path shared = sharedDirectory();
        Path copy = shared.resolve(libraryFileName());
        Files.copy(JAR_LIBRARY, copy);
        Object inode = Files.getAttribute(copy, "unix:ino");
        try (CrtProbe probe = probe()) {
            assertTrue(probe.mapsLine().contains(" " + inode + " ") && probe.mapsLine().endsWith(copy + " (deleted)"),
                    "the existing copy (inode " + inode + ") was loaded: " + probe.mapsLine());
        }
        assertEquals(List.of(), filesUnder(tmp));
    }

    @Test
    void aCopyWithOtherContentUnderTheSameNameIsReplaced() throws Exception {
        Path shared = sharedDirectory();
        Path copy = shared.resolve(libraryFileName());
        Files.writeString(copy, "not a library");
        Object inode = Files.getAttribute(copy, "unix:ino");
        try (CrtProbe probe = probe()) {
            assertTrue(probe.mapsLine().contains(copy + " (deleted)"), probe.mapsLine());
            assertFalse(probe.mapsLine().contains(" " + inode + " "), "a new file replaced it: " + probe.mapsLine());
        }
        assertEquals(List.of(), filesUnder(tmp));
    }

    @Test
    void aSharedDirectoryOthersCanReadIsNotUsed() throws Exception {
        Path shared = Files.createDirectory(tmp.resolve("wscrt-" + System.getProperty("user.name")),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try (CrtProbe probe = probe()) {
            String mapped = probe.mappedLibrary();
            assertFalse(mapped.startsWith(shared + "/"), mapped);
            assertTrue(mapped.startsWith(tmp + "/wscrt-"), "a fresh private directory instead: " + mapped);
        }
        assertEquals(List.of(shared), entriesUnder(tmp), "the fresh directory is gone, the other untouched");
    }

    @Test
    void theLibPathPropertyOverridesTheJar() throws Exception {
        Path library = JAR_LIBRARY.toAbsolutePath(); // this platform's build, loaded from where it lies
        try (CrtProbe probe = probe("-Dwscrt.lib.path=" + library)) {
            assertTrue(probe.mapsLine().endsWith(" " + library), probe.mapsLine());
        }
        assertEquals(List.of(), entriesUnder(tmp), "nothing was extracted");
    }

    private Path sharedDirectory() throws IOException {
        return Files.createDirectory(tmp.resolve("wscrt-" + System.getProperty("user.name")),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    private static String libraryFileName() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(JAR_LIBRARY));
        return "libwscrt-jni-" + HexFormat.of().formatHex(digest).substring(0, 32) + ".so";
    }

    private static List<Path> filesUnder(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(Files::isRegularFile).toList();
        }
    }

    private static List<Path> entriesUnder(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(p -> !p.equals(dir)).toList();
        }
    }

    private CrtProbe probe(String... jvmOptions) throws Exception {
        List<String> options = new ArrayList<>(List.of("-Djava.io.tmpdir=" + tmp));
        options.addAll(List.of(jvmOptions));
        return CrtProbe.start(options).awaitLoaded();
    }
}
