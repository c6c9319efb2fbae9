package dev.wscrt.mqtt;

import dev.wscrt.CrtRuntimeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A minimal MQTT 3.1.1 client over an {@link MqttTransport}: CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH
 * QoS 0 and 1 (with PUBACK both ways), PINGREQ/PINGRESP, DISCONNECT. Packets are encoded and decoded by
 * Netty's MQTT codec ({@link MqttCodec}); this class only keeps the session: packet identifiers, the
 * futures waiting for answers, and PUBACKs for the QoS 1 messages it receives.
 *
 * <p>Methods are thread-safe. Received messages reach the consumer on the transport's receiving thread,
 * in order. When the connection ends, every waiting future fails with the transport's error and
 * {@link #ended()} completes (exceptionally unless the close handshake completed).
 */
final class MqttClient {

    /** One PUBLISH received ({@code duplicate}: its DUP flag, set on a resend). */
    record Message(String topic, MqttQoS qos, int packetId, boolean duplicate, byte[] payload) {
    }

    /** The connection ended while a future was waiting (its cause is the transport's error, if any). */
    static final class ConnectionEndedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConnectionEndedException(Throwable cause) {
            super("the MQTT connection ended" + (cause == null ? "" : ": " + cause), cause);
        }
    }

    private final MqttCodec codec = new MqttCodec(MoquetteBroker.MAX_PACKET);
    private final Consumer<Message> onMessage;
    private final CompletableFuture<MqttConnectReturnCode> connAck = new CompletableFuture<>();
    private final Map<Integer, CompletableFuture<Object>> awaitingAck = new ConcurrentHashMap<>();
    private final Queue<CompletableFuture<Void>> awaitingPong = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final Object idLock = new Object();
    private int lastPacketId; // guarded by idLock
    private volatile MqttTransport transport;

    private MqttClient(Consumer<Message> onMessage) {
        this.onMessage = onMessage;
    }

    /**
     * Opens the transport with {@code connector}, sends CONNECT (clean session, keep-alive 60 s) and
     * completes when the broker has accepted it with CONNACK.
     */
    static CompletableFuture<MqttClient> connect(Function<MqttTransport.Receiver, CompletableFuture<MqttTransport>>
                                                         connector, String clientId, Consumer<Message> onMessage) {
        MqttClient client = new MqttClient(onMessage);
        return connector.apply(client.receiver()).thenCompose(transport -> {
            client.transport = transport;
            MqttMessage connect = MqttMessageBuilders.connect()
                    .clientId(clientId)
                    .protocolVersion(MqttVersion.MQTT_3_1_1)
                    .cleanSession(true)
                    .keepAlive(60)
                    .build();
            client.send(connect);
            return client.connAck;
        }).thenApply(code -> {
            if (code != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                client.transport.abort();
                throw new IllegalStateException("CONNACK refused the connection: " + code);
            }
            return client;
        });
    }

    /** Subscribes; completes with the QoS levels granted in SUBACK. */
    @SuppressWarnings("unchecked")
    CompletableFuture<List<Integer>> subscribe(String topic, MqttQoS qos) {
        int id = nextPacketId();
        CompletableFuture<Object> ack = expectAck(id);
        send(MqttMessageBuilders.subscribe().messageId(id).addSubscription(qos, topic).build());
        return ack.thenApply(granted -> (List<Integer>) granted);
    }

    /**
     * Publishes {@code payload}: QoS 0 completes once written, QoS 1 when the broker's PUBACK arrives.
     */
    CompletableFuture<Void> publish(String topic, byte[] payload, MqttQoS qos) {
        int id = qos == MqttQoS.AT_MOST_ONCE ? 0 : nextPacketId();
        CompletableFuture<Object> ack = qos == MqttQoS.AT_MOST_ONCE ? null : expectAck(id);
        MqttPublishMessage publish = MqttMessageBuilders.publish()
                .topicName(topic)
                .qos(qos)
                .messageId(id)
                .payload(Unpooled.wrappedBuffer(payload))
                .build();
        CompletableFuture<Void> written = send(publish);
        return ack == null ? written : written.thenCompose(v -> ack).thenApply(v -> null);
    }

    /** Sends PINGREQ; completes at the PINGRESP. */
    CompletableFuture<Void> ping() {
        CompletableFuture<Void> pong = new CompletableFuture<>();
        awaitingPong.add(pong);
        send(MqttMessage.PINGREQ);
        failIfEnded(pong);
        return pong;
    }

    /**
     * Sends DISCONNECT, then closes the WebSocket; completes when the connection has ended.
     *
     * <p>MQTT 3.1.1 section 3.14.4 has the broker close the network connection when it reads DISCONNECT,
     * and Moquette does so without a WebSocket close frame. Whether our close frame goes out before that
     * is a race, so the broker closing the socket ({@code WSCRT_ERROR_IO_SOCKET_CLOSED}) is a normal end
     * here; any other error fails the future.
     */
    CompletableFuture<Void> disconnect() {
        return send(MqttMessage.DISCONNECT)
                .thenCompose(v -> transport.close())
                .thenCompose(v -> ended)
                .exceptionallyCompose(MqttClient::brokerClosedAfterDisconnect);
    }

    private static CompletableFuture<Void> brokerClosedAfterDisconnect(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof CrtRuntimeException crt && "WSCRT_ERROR_IO_SOCKET_CLOSED".equals(crt.errorName())) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.failedFuture(cause);
    }

    /** The WebSocket subprotocol the broker selected, or null. */
    String subprotocol() {
        return transport.subprotocol();
    }

    /** Completes when the connection has ended: normally after a close handshake, else with its error. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    /** Ends the connection at once, without DISCONNECT. */
    void abort() {
        transport.abort();
    }

    private CompletableFuture<Void> send(MqttMessage packet) {
        return transport.send(codec.encode(packet));
    }

    private int nextPacketId() {
        synchronized (idLock) {
            lastPacketId = lastPacketId % 0xFFFF + 1;
            return lastPacketId;
        }
    }

    private CompletableFuture<Object> expectAck(int id) {
        CompletableFuture<Object> ack = new CompletableFuture<>();
        if (awaitingAck.putIfAbsent(id, ack) != null) {
            throw new IllegalStateException("packet identifier " + id + " is still in flight");
        }
        failIfEnded(ack);
        return ack;
    }

    private void failIfEnded(CompletableFuture<?> waiting) {
        if (ended.isDone()) {
            waiting.completeExceptionally(new ConnectionEndedException(ended.handle((v, e) -> e).join()));
        }
    }

    // ---- the transport's receiving thread ------------------------------------------------------

    private MqttTransport.Receiver receiver() {
        return new MqttTransport.Receiver() {
            @Override
            public void onBytes(ByteBuffer bytes) {
                List<MqttMessage> packets;
                try {
                    packets = codec.decode(bytes);
                } catch (MqttCodec.MalformedPacketException e) {
                    transport.abort();
                    throw e;
                }
                for (MqttMessage packet : packets) {
                    try {
                        handle(packet);
                    } finally {
                        ReferenceCountUtil.release(packet);
                    }
                }
            }

            @Override
            public void onEnd(Throwable error) {
                ConnectionEndedException ending = new ConnectionEndedException(error);
                connAck.completeExceptionally(ending);
                awaitingAck.values().forEach(f -> f.completeExceptionally(ending));
                for (CompletableFuture<Void> pong; (pong = awaitingPong.poll()) != null; ) {
                    pong.completeExceptionally(ending);
                }
                if (error == null) {
                    ended.complete(null);
                } else {
                    ended.completeExceptionally(error);
                }
            }
        };
    }

    private void handle(MqttMessage packet) {
        switch (packet.fixedHeader().messageType()) {
            case CONNACK -> connAck.complete(((MqttConnAckMessage) packet).variableHeader().connectReturnCode());
            case SUBACK -> complete(((MqttSubAckMessage) packet).variableHeader().messageId(),
                    ((MqttSubAckMessage) packet).payload().grantedQoSLevels());
            case PUBACK -> complete(((MqttMessageIdVariableHeader) packet.variableHeader()).messageId(), null);
            case PINGRESP -> {
                CompletableFuture<Void> pong = awaitingPong.poll();
                if (pong != null) {
                    pong.complete(null);
                }
            }
            case PUBLISH -> {
                MqttPublishMessage publish = (MqttPublishMessage) packet;
                ByteBuf content = publish.content();
                byte[] payload = new byte[content.readableBytes()];
                content.getBytes(content.readerIndex(), payload);
                MqttQoS qos = publish.fixedHeader().qosLevel();
                int id = publish.variableHeader().packetId();
                onMessage.accept(new Message(publish.variableHeader().topicName(), qos, id,
                        publish.fixedHeader().isDup(), payload));
                if (qos == MqttQoS.AT_LEAST_ONCE) {
                    send(MqttMessageBuilders.pubAck().packetId(id).build());
                }
            }
            default -> throw new IllegalStateException("unexpected MQTT packet from the broker: " + packet);
        }
    }

    private void complete(int id, Object value) {
        CompletableFuture<Object> ack = awaitingAck.remove(id);
        if (ack == null) {
            throw new IllegalStateException("an answer for packet identifier " + id + " that nothing waits for");
        }
        ack.complete(value);
    }
}
