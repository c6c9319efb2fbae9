package dev.wscrt.mqtt;

import io.netty.handler.codec.mqtt.MqttQoS;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The load of the MQTT tests and benchmark: payloads of 16 B to 64 KiB (sizes log-uniform, so small and
 * large ones are both common; the first is 16 B, the last 64 KiB; each starts with its index), published
 * with at most {@code window} QoS 1 messages awaiting PUBACK, and a {@link Checker} on the subscriber that
 * compares each arrival with the payload expected next, byte for byte.
 */
final class MqttLoad {

    static final int MIN_SIZE = 16;
    static final int MAX_SIZE = 64 * 1024;

    private MqttLoad() {
    }

    /** {@code count} payloads made from {@code seed}. */
    static List<byte[]> payloads(int count, long seed) {
        Random random = new Random(seed);
        List<byte[]> payloads = new ArrayList<>(count);
        double span = Math.log((double) MAX_SIZE / MIN_SIZE);
        for (int i = 0; i < count; i++) {
            int size = i == 0 ? MIN_SIZE : i == count - 1 ? MAX_SIZE
                    : (int) Math.min(MAX_SIZE, Math.round(MIN_SIZE * Math.exp(random.nextDouble() * span)));
            byte[] payload = new byte[size];
            random.nextBytes(payload);
            payload[0] = (byte) (i >>> 24);
            payload[1] = (byte) (i >>> 16);
            payload[2] = (byte) (i >>> 8);
            payload[3] = (byte) i;
            payloads.add(payload);
        }
        return payloads;
    }

    static long totalBytes(List<byte[]> payloads) {
        return payloads.stream().mapToLong(p -> p.length).sum();
    }

    /** Checks arrivals against the expected payloads in order; its methods are thread-safe. */
    static final class Checker implements Consumer<MqttClient.Message> {
        private final List<byte[]> expected;
        private final String topic;
        private volatile int received;
        private final AtomicReference<String> firstProblem = new AtomicReference<>();
        private final AtomicReference<String> firstCorruption = new AtomicReference<>();
        private final List<Integer> arrivals = java.util.Collections.synchronizedList(new ArrayList<>());
        /** The broker's packet identifier of each arrival ("DUP" after a resent one), to tell where a message
         * went missing and whether the broker resent it. */
        private final List<String> packetIds = java.util.Collections.synchronizedList(new ArrayList<>());

        Checker(List<byte[]> expected, String topic) {
            this.expected = expected;
            this.topic = topic;
        }

        @Override
        public void accept(MqttClient.Message message) {
            int index = received;
            String problem = null;
            if (index >= expected.size()) {
                problem = "message " + index + " arrived beyond the " + expected.size() + " sent";
            } else if (!topic.equals(message.topic())) {
                problem = "message " + index + " on topic " + message.topic();
            } else if (!java.util.Arrays.equals(expected.get(index), message.payload())) {
                byte[] got = message.payload();
                problem = "message " + index + " differs: expected " + expected.get(index).length + " bytes, got "
                        + got.length + (got.length >= 4 ? " starting with index " + (((got[0] & 0xFF) << 24)
                        | ((got[1] & 0xFF) << 16) | ((got[2] & 0xFF) << 8) | (got[3] & 0xFF)) : "");
            }
            byte[] got = message.payload();
            int carried = got.length >= 4 ? ((got[0] & 0xFF) << 24) | ((got[1] & 0xFF) << 16)
                    | ((got[2] & 0xFF) << 8) | (got[3] & 0xFF) : -1;
            synchronized (arrivals) {
                arrivals.add(carried);
                packetIds.add(message.packetId() + (message.duplicate() ? " DUP" : ""));
            }
            if (carried < 0 || carried >= expected.size() || !java.util.Arrays.equals(expected.get(carried), got)) {
                firstCorruption.compareAndSet(null, "arrival " + index + " (" + got.length
                        + " bytes) is not any payload that was sent");
            }
            if (problem != null) {
                firstProblem.compareAndSet(null, problem);
            }
            received = index + 1;
        }

        /** The first arrival whose bytes are not those of the payload its index names, or null. */
        String firstCorruption() {
            return firstCorruption.get();
        }

        int received() {
            return received;
        }

        /**
         * The first arrival that was not the one expected, with the indexes that arrived around it, or
         * null.
         */
        String firstProblem() {
            String problem = firstProblem.get();
            if (problem == null) {
                return null;
            }
            synchronized (arrivals) {
                int at = 0;
                for (int i = 0; i < arrivals.size(); i++) {
                    if (arrivals.get(i) != i) {
                        at = i;
                        break;
                    }
                }
                int from = Math.max(0, at - 3);
                int to = Math.min(arrivals.size(), at + 20);
                int late = arrivals.subList(at, arrivals.size()).indexOf(at);
                return problem + "; indexes arrived from position " + from + ": " + arrivals.subList(from, to)
                        + ", with packet identifiers " + packetIds.subList(from, to) + " (" + arrivals.size()
                        + " arrivals; index " + at + (late < 0 ? " never arrived)" : " arrived at position "
                        + (at + late) + " with packet identifier " + packetIds.get(at + late) + ")");
            }
        }

        /**
         * Waits until {@code count} messages arrived, at most {@code limit}, and no longer than 5 s without
         * an arrival. Returns whether they all did.
         */
        boolean awaitReceived(int count, Duration limit) {
            long deadline = System.nanoTime() + limit.toNanos();
            int last = -1;
            long lastChange = System.nanoTime();
            while (received < count) {
                long now = System.nanoTime();
                if (received != last) {
                    last = received;
                    lastChange = now;
                }
                if (now - deadline > 0 || now - lastChange > 5_000_000_000L) {
                    return false;
                }
                dev.wscrt.testing.Await.sleep(2);
            }
            return true;
        }
    }

    /**
     * Publishes every payload on {@code topic} with QoS 1, at most {@code window} awaiting PUBACK. Returns
     * the first failure of a publish, or null; stops early on a failure or when {@code limit} has passed.
     */
    static Throwable publishAll(MqttClient publisher, String topic, List<byte[]> payloads, int window,
                                Duration limit) throws InterruptedException {
        Semaphore inFlight = new Semaphore(window);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long deadline = System.nanoTime() + limit.toNanos();
        for (byte[] payload : payloads) {
            long left = deadline - System.nanoTime();
            if (failure.get() != null) {
                break;
            }
            if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                failure.compareAndSet(null, new AssertionError("publishing took longer than " + limit));
                break;
            }
            publisher.publish(topic, payload, MqttQoS.AT_LEAST_ONCE).whenComplete((v, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e instanceof java.util.concurrent.CompletionException
                            && e.getCause() != null ? e.getCause() : e);
                }
                inFlight.release();
            });
        }
        long left = Math.max(0, deadline - System.nanoTime());
        if (failure.get() == null && !inFlight.tryAcquire(window, left, TimeUnit.NANOSECONDS)) {
            failure.compareAndSet(null, new AssertionError("PUBACKs still missing after " + limit));
        }
        return failure.get();
    }
}
