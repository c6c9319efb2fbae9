package dev.wscrt;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Finds and loads {@code libwscrt-jni.so}: from {@code -Dwscrt.lib.path} when set, otherwise from the
 * jar's {@code native/<platform>/} folder.
 *
 * <p>Extraction: the library goes into a per-user private directory ({@code <java.io.tmpdir>/wscrt-<user>},
 * mode 0700, checked to be a real directory owned by this user; otherwise a fresh private temporary
 * directory), under a name holding a hash of its content. It is loaded, then unlinked (Linux keeps a
 * loaded library mapped after its name is gone), and the directory is removed once empty, so nothing is
 * left behind even after {@code kill -9}. A file of the same name is already the same library, so JVMs
 * starting at once share one copy instead of rewriting it; a new copy is written under a unique name
 * and renamed into place, so no loader ever sees a half-written file.
 */
final class NativeLoader {
    static final String LIBRARY_PATH_PROPERTY = "wscrt.lib.path";
    private static final String LIBRARY_NAME = "libwscrt-jni.so";
    /** The platforms wscrt builds native libraries for, in the names of the jar folders and classifiers. */
    static final List<String> SUPPORTED_PLATFORMS = List.of("linux-x86_64", "linux-aarch64");
    /** Another JVM of the same user may unlink the shared copy between our write and our load. */
    private static final int LOAD_ATTEMPTS = 3;
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    /** The C library of the running JVM: the library is built for glibc only. */
    enum Libc { GLIBC, MUSL, UNKNOWN }

    private NativeLoader() {
    }

    static void load() {
        String override = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        loadFromJar(platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""), runningLibc()));
    }

    /**
     * The platform name for these system properties, one of {@link #SUPPORTED_PLATFORMS}.
     *
     * @throws UnsatisfiedLinkError naming the platform found and the platforms supported, when it is none
     */
    static String platform(String osName, String osArch, Libc libc) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch.toLowerCase(Locale.ROOT);
        };
        String found;
        if (os.startsWith("linux")) {
            found = "linux-" + arch + (libc == Libc.MUSL ? " (musl libc)" : "");
            if (libc != Libc.MUSL && SUPPORTED_PLATFORMS.contains("linux-" + arch)) {
                return "linux-" + arch;
            }
        } else {
            String family = os.startsWith("mac") || os.startsWith("darwin") ? "macos"
                    : os.startsWith("windows") ? "windows" : os.replace(' ', '_');
            found = family + "-" + arch;
        }
        throw new UnsatisfiedLinkError("wscrt has no native library for this platform: found " + found
                + " (os.name=" + osName + ", os.arch=" + osArch + "); supported: "
                + String.join(", ", SUPPORTED_PLATFORMS) + " with glibc. Set -D" + LIBRARY_PATH_PROPERTY
                + "=/path/to/" + LIBRARY_NAME + " to load a library built for this machine");
    }

    /** The C library this process runs on, from the libraries mapped into it. */
    static Libc runningLibc() {
        try {
            return libcOf(Files.readString(Path.of("/proc/self/maps")));
        } catch (IOException | RuntimeException e) {
            return Libc.UNKNOWN;
        }
    }

    /** The C library named in the text of {@code /proc/<pid>/maps}. */
    static Libc libcOf(String maps) {
        if (maps.contains("/ld-musl-") || maps.contains("/libc.musl-")) {
            return Libc.MUSL;
        }
        return maps.contains("/libc.so.6") ? Libc.GLIBC : Libc.UNKNOWN;
    }

    /** Extracts and loads the library the jar holds for {@code platform}, leaving no file behind. */
    static void loadFromJar(String platform) {
        loadFromJar(platform, NativeLoader.class::getResource);
    }

    /** As {@link #loadFromJar(String)}, with the jar's resources looked up through {@code resources}. */
    static void loadFromJar(String platform, Function<String, URL> resources) {
        String resource = "/native/" + platform + "/" + LIBRARY_NAME;
        byte[] library;
        URL url = resources.apply(resource);
        try (InputStream in = url == null ? null : url.openStream()) {
            if (in == null) {
                throw new UnsatisfiedLinkError("this wscrt jar has no native library for " + platform
                        + " (no " + resource + "; it holds " + platformsInJar(resources) + "): use the main wscrt jar or"
                        + " its " + platform + " classifier jar, or set -D" + LIBRARY_PATH_PROPERTY + "=/path/to/"
                        + LIBRARY_NAME);
            }
            library = in.readAllBytes();
        } catch (IOException e) {
            throw linkError("could not read " + resource + " from the jar", e);
        }
        String name = "libwscrt-jni-" + sha256(library).substring(0, 32) + ".so";
        IOException last = null;
        for (int attempt = 0; attempt < LOAD_ATTEMPTS; attempt++) {
            Path dir = null;
            boolean ownDirectory = false;
            try {
                dir = sharedDirectory();
                ownDirectory = dir == null;
                if (ownDirectory) {
                    dir = Files.createTempDirectory("wscrt-", PosixFilePermissions.asFileAttribute(PRIVATE));
                }
                Path file = dir.resolve(name);
                if (!sameContent(file, library)) {
                    writeAtomically(dir, file, library);
                }
                try {
                    System.load(file.toString());
                } catch (UnsatisfiedLinkError e) {
                    if (Files.exists(file)) {
                        throw e;
                    }
                    last = new NoSuchFileException(file.toString(), null, "unlinked by another JVM before loading");
                    continue;
                } finally {
                    Files.deleteIfExists(file);
                }
                return;
            } catch (NoSuchFileException e) {
                last = e; // the shared directory was removed by another JVM meanwhile: try again
            } catch (IOException e) {
                throw linkError("could not extract " + resource + " into " + dir, e);
            } finally {
                removeIfEmpty(dir, ownDirectory);
            }
        }
        throw linkError("could not extract " + resource + " after " + LOAD_ATTEMPTS + " attempts", last);
    }

    /**
     * The per-user directory {@code <java.io.tmpdir>/wscrt-<user>}, created 0700 if missing; or null when
     * what is there is not a directory of this user's that only they can use (the caller then makes a fresh
     * private one).
     */
    private static Path sharedDirectory() throws IOException {
        String user = System.getProperty("user.name", "").replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().resolve("wscrt-" + user);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
        } catch (FileAlreadyExistsException e) {
            // Checked below, without following a link planted under that name.
        }
        PosixFileAttributes attributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        // /proc/self belongs to this process's effective user.
        boolean ours = attributes.isDirectory() && attributes.permissions().equals(PRIVATE)
                && attributes.owner().equals(Files.getOwner(Path.of("/proc/self")));
        return ours ? dir : null;
    }

    private static boolean sameContent(Path file, byte[] library) throws IOException {
        try {
            return Files.size(file) == library.length && sha256(Files.readAllBytes(file)).equals(sha256(library));
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Writes under a unique name, then renames over {@code file}: a reader sees the old or the whole new. */
    private static void writeAtomically(Path dir, Path file, byte[] library) throws IOException {
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(PRIVATE);
        Path partial = Files.createTempFile(dir, "partial-", ".so", mode);
        try {
            Files.write(partial, library);
            try {
                Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private static void removeIfEmpty(Path dir, boolean ownDirectory) {
        if (dir == null) {
            return;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            // Another JVM of this user is extracting into it; the last one out removes it.
        } catch (IOException e) {
            if (ownDirectory) {
                dir.toFile().deleteOnExit();
            }
        }
    }

    private static List<String> platformsInJar(Function<String, URL> resources) {
        List<String> found = new ArrayList<>();
        for (String platform : SUPPORTED_PLATFORMS) {
            if (resources.apply("/native/" + platform + "/" + LIBRARY_NAME) != null) {
                found.add(platform);
            }
        }
        return found;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static UnsatisfiedLinkError linkError(String message, IOException cause) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message + (cause == null ? "" : ": " + cause));
        error.initCause(cause);
        return error;
    }
}
