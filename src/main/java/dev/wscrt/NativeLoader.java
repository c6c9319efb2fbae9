package dev.wscrt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Finds and loads {@code libwscrt-jni.so}: from {@code -Dwscrt.lib.path} when set, otherwise from the
 * jar's {@code native/<os>-<arch>/} folder, extracted to a private temporary file that is removed at exit.
 */
final class NativeLoader {
    static final String LIBRARY_PATH_PROPERTY = "wscrt.lib.path";
    private static final String LIBRARY_NAME = "libwscrt-jni.so";

    private NativeLoader() {
    }

    static void load() {
        String override = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        loadFromJar(platform());
    }

    /** Extracts and loads the library the jar holds for {@code platform}. */
    static void loadFromJar(String platform) {
        String resource = "/native/" + platform + "/" + LIBRARY_NAME;
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("wscrt has no native library for platform '" + platform
                        + "' (looked for " + resource + " on the class path); set -D" + LIBRARY_PATH_PROPERTY
                        + "=/path/to/" + LIBRARY_NAME + " to use one built for this machine");
            }
            Path file = Files.createTempFile("wscrt-jni-", ".so",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new UncheckedIOExceptionLinkError("could not extract " + resource, e);
        }
    }

    /** {@code <os>-<arch>} in the names the jar uses, for example {@code linux-x86_64}. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "osx" : os.contains("win") ? "windows" : os;
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch_64";
            default -> arch;
        };
        return osName + "-" + archName;
    }

    /** An {@link UnsatisfiedLinkError} that keeps the I/O failure as its cause. */
    private static final class UncheckedIOExceptionLinkError extends UnsatisfiedLinkError {
        private static final long serialVersionUID = 1L;

        UncheckedIOExceptionLinkError(String message, IOException cause) {
            super(message + ": " + cause);
            initCause(cause);
        }
    }
}
