package dev.wscrt.mqtt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@link BrokerMain} in a child JVM on this JVM's class path; {@link #close()} stops it (bounded). */
final class BrokerProcess implements AutoCloseable {
    final Process process;
    final int tcpPort;
    final URI wssUri;
    final String caPem;
    private final Path caFile;

    private BrokerProcess(Process process, int tcpPort, URI wssUri, Path caFile) throws IOException {
        this.process = process;
        this.tcpPort = tcpPort;
        this.wssUri = wssUri;
        this.caFile = caFile;
        this.caPem = Files.readString(caFile);
    }

    static BrokerProcess start() throws IOException {
        Path caFile = Files.createTempFile("wscrt-mqtt-ca", ".pem");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-Xmx1g", "-Dio.netty.eventLoopThreads=" + Integer.getInteger("mqtt.brokerThreads", 1), "-cp", System.getProperty("java.class.path"),
                BrokerMain.class.getName(), caFile.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII));
        String line = out.readLine(); // BrokerMain prints it within seconds or exits
        if (line == null || !line.startsWith("tcp=")) {
            process.destroyForcibly();
            throw new IOException("the broker process did not start: " + line);
        }
        String[] parts = line.split(" ");
        return new BrokerProcess(process, Integer.parseInt(parts[0].substring(4)), URI.create(parts[1].substring(4)),
                caFile);
    }

    /** The broker process's CPU time so far (user + system, from /proc), in nanoseconds. */
    long cpuNanos() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            Files.deleteIfExists(caFile);
        }
    }
}
