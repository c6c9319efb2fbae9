package dev.wscrt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The wss ceiling: {@code openssl speed -evp aes-256-gcm} on 16 KiB blocks (a full TLS record) on the
 * clients' CPU, in bytes per second; AES-256-GCM is what the server negotiates here (the report names the
 * cipher the server saw).
 */
record CipherCeiling(double bytesPerSecond, String command, String problem) {

    static CipherCeiling measure(String cpus, int seconds) {
        List<String> cmd = new ArrayList<>();
        if (cpus != null) {
            cmd.addAll(List.of("taskset", "-c", cpus));
        }
        cmd.addAll(List.of("openssl", "speed", "-evp", "aes-256-gcm", "-seconds", Integer.toString(seconds),
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
                if (line.startsWith("AES-256-GCM")) {
                    String[] parts = line.trim().split("\\s+");
                    String k = parts[parts.length - 1];
                    return new CipherCeiling(Double.parseDouble(k.substring(0, k.length() - 1)) * 1000, shown, null);
                }
            }
            return new CipherCeiling(0, shown, "no AES-256-GCM line in: " + out.replace('\n', ' '));
        } catch (IOException | RuntimeException e) {
            return new CipherCeiling(0, shown, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CipherCeiling(0, shown, "interrupted");
        }
    }
}
