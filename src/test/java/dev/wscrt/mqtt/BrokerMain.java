package dev.wscrt.mqtt;

import dev.wscrt.tls.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs a {@link MoquetteBroker} in a process of its own (for the benchmark and the mosquitto
 * interoperability check, so that the client's CPU time is not mixed with the broker's). Writes the test
 * CA as PEM to the file given, prints {@code tcp=PORT wss=URI} on one line, and stops when its standard
 * input closes (or after the hour given as a bound).
 */
public final class BrokerMain {
    private BrokerMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BrokerMain CA_PEM_FILE");
            System.exit(2);
        }
        // Moquette's warnings (a dropped message, a refused frame) to standard error.
        org.apache.log4j.Logger root = org.apache.log4j.Logger.getRootLogger();
        root.addAppender(new org.apache.log4j.ConsoleAppender(new org.apache.log4j.PatternLayout("broker %p %c: %m%n"),
                org.apache.log4j.ConsoleAppender.SYSTEM_ERR));
        root.setLevel(org.apache.log4j.Level.WARN);
        Files.writeString(Path.of(args[0]), TestCertificates.get().caPem(), StandardCharsets.US_ASCII);
        try (MoquetteBroker broker = MoquetteBroker.start()) {
            System.out.println("tcp=" + broker.tcpPort() + " wss=" + broker.wssUri());
            System.out.flush();
            long deadline = System.nanoTime() + 3_600_000_000_000L;
            while (System.in.read() >= 0 && System.nanoTime() - deadline < 0) {
                // until the parent closes our standard input
            }
        }
        System.exit(0);
    }
}
