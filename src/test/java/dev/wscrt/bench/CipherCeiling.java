package dev.wscrt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The wss ceiling: {@code openssl speed -evp <cipher>} on 16 KiB blocks (a full TLS record) on the clients'
 * CPU, in bytes per second, for the AES-GCM or ChaCha20-Poly1305 cipher the throughput port negotiated.
 */
record CipherCeiling(double bytesPerSecond, String command, String problem) {

    /** Nothing measured: no wss throughput scenario ran. */
    static final CipherCeiling NONE = new CipherCeiling(0, "openssl speed", "no wss throughput run");

    /** {@code openssl speed}'s name for the bulk cipher of a TLS cipher suite, null if none of the three. */
    static String evpName(String cipherSuite) {
        String suite = cipherSuite.toUpperCase(java.util.Locale.ROOT);
        if (suite.contains("AES_128_GCM") || suite.contains("AES128-GCM")) {
            return "aes-128-gcm";
        }
        if (suite.contains("AES_256_GCM") || suite.contains("AES256-GCM")) {
            return "aes-256-gcm";
        }
        return suite.contains("CHACHA20") ? "chacha20-poly1305" : null;
    }

    static CipherCeiling measure(String cpus, int seconds, String cipherSuite) {
        String evp = evpName(cipherSuite);
        if (evp == null) {
            return new CipherCeiling(0, "openssl speed", "no openssl speed name for " + cipherSuite);
        }
        List<String> cmd = new ArrayList<>();
        if (cpus != null) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.addAll(List.of("openssl", "speed", "-evp", evp, "-seconds", Integer.toString(seconds),
                "-bytes", "16384"));
        String shown = String.join(" ", cmd);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new CipherCeiling(0, shown, "openssl speed did not finish");
            }
            for (String line : out.split("\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith(evp + " ")) {
                    String[] parts = line.trim().split("\\s+");
                    String k = parts[parts.length - 1];
                    return new CipherCeiling(Double.parseDouble(k.substring(0, k.length() - 1)) * 1000, shown, null);
                }
            }
            return new CipherCeiling(0, shown, "no " + evp + " line in: " + out.replace('\n', ' '));
        } catch (IOException | RuntimeException e) {
            return new CipherCeiling(0, shown, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CipherCeiling(0, shown, "interrupted");
        }
    }
}
