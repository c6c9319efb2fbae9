package dev.wscrt.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * MQTT 3.1.1 packets to bytes and back with Netty's {@code netty-codec-mqtt} (its encoder and its
 * streaming decoder, run in embedded channels): the clients here carry these bytes in WebSocket
 * messages and never parse MQTT themselves. A packet may span messages and a message may hold several
 * packets; the decoder joins and splits them.
 *
 * <p>{@link #encode} is thread-safe; {@link #decode} is called by one thread at a time (the transport's
 * receiving thread).
 */
final class MqttCodec {

    /** A packet the decoder could not read: the stream cannot continue. */
    static final class MalformedPacketException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedPacketException(Throwable cause) {
            super("malformed MQTT packet: " + cause, cause);
        }
    }

    private final EmbeddedChannel encoder = new EmbeddedChannel(MqttEncoder.INSTANCE);
    private final EmbeddedChannel decoder;

    MqttCodec(int maxPacketBytes) {
        decoder = new EmbeddedChannel(new MqttDecoder(maxPacketBytes));
    }

    /** The packet's bytes (its payload buffer, if any, is released). */
    byte[] encode(MqttMessage message) {
        synchronized (encoder) {
            encoder.writeOutbound(message);
            ByteBuf out = Unpooled.buffer();
            for (ByteBuf piece; (piece = encoder.readOutbound()) != null; ) {
                out.writeBytes(piece);
                piece.release();
            }
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            return bytes;
        }
    }

    /**
     * The packets completed by {@code bytes} (copied), in order. The caller releases each one
     * ({@code ReferenceCountUtil.release}).
     *
     * @throws MalformedPacketException when the stream holds a packet that is not MQTT 3.1.1
     */
    List<MqttMessage> decode(ByteBuffer bytes) {
        decoder.writeInbound(Unpooled.copiedBuffer(bytes));
        List<MqttMessage> packets = new ArrayList<>();
        for (Object next; (next = decoder.readInbound()) != null; ) {
            MqttMessage packet = (MqttMessage) next;
            if (packet.decoderResult().isFailure()) {
                packets.forEach(ReferenceCountUtil::release);
                ReferenceCountUtil.release(packet);
                throw new MalformedPacketException(packet.decoderResult().cause());
            }
            packets.add(packet);
        }
        return packets;
    }
}
