package dev.wscrt.mqtt;

import io.moquette.broker.Server;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import java.lang.reflect.Field;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Gives each of Moquette's client channels room to queue what the broker may write to it unacknowledged, so
 * that the broker never silently drops a QoS 1 PUBLISH.
 *
 * <p>Moquette 0.17 writes a PUBLISH to a subscriber only if its Netty channel is writable at that moment
 * ({@code MQTTConnection.sendIfWritableElseDrop}); otherwise the message stays in its inflight window and is
 * resent, marked DUP, when {@code FLIGHT_BEFORE_RESEND_MS} (5 s) have passed, behind the messages sent in
 * between. A channel stops being writable when more than Netty's default high water mark (64 KiB) waits in
 * its outbound buffer: one 64 KiB payload of the load is enough while the subscriber is slow to read, and the
 * broker checks writability twice on another thread than the one that encodes, so a message now and then
 * goes missing from its place and comes last (docs/mqtt-report.md). That is the broker's fault, not the
 * transport's, but it looks exactly like a message the client lost (the broker resends an unacknowledged
 * one either way). With each channel's high water mark above the most the broker can have outstanding (its
 * inflight window of 10 PUBLISHes of at most {@link MoquetteBroker#MAX_PACKET} bytes), the drop cannot happen
 * and any message out of its place is the client's.
 *
 * <p>Moquette 0.17 has no option for Netty's child-channel settings; it adds the optional handler kept in its
 * acceptor's {@code errorsCather} field (meant for an error reporter) to each new client channel's pipeline,
 * which is where this handler goes, by reflection, before any client connects.
 */
@ChannelHandler.Sharable
final class BrokerWriteRoom extends ChannelInboundHandlerAdapter {

    /** The broker's inflight window (BrokerConstants.INFLIGHT_WINDOW_SIZE in 0.17). */
    private static final int INFLIGHT_WINDOW = 10;
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(
            INFLIGHT_WINDOW * MoquetteBroker.MAX_PACKET, 2 * INFLIGHT_WINDOW * MoquetteBroker.MAX_PACKET);

    private final AtomicInteger channels = new AtomicInteger();

    private BrokerWriteRoom() {
    }

    /** Installs a handler in {@code server}, started and not yet connected to, and returns it. */
    static BrokerWriteRoom install(Server server) {
        try {
            Field acceptorField = Server.class.getDeclaredField("acceptor");
            acceptorField.setAccessible(true);
            Object acceptor = acceptorField.get(server);
            Field handlerField = acceptor.getClass().getDeclaredField("errorsCather");
            handlerField.setAccessible(true);
            if (((Optional<?>) handlerField.get(acceptor)).isPresent()) {
                throw new IllegalStateException("Moquette already has a handler in errorsCather");
            }
            BrokerWriteRoom room = new BrokerWriteRoom();
            handlerField.set(acceptor, Optional.of(room));
            return room;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot widen the write buffers of Moquette " + Server.MOQUETTE_VERSION
                    + " (its acceptor's fields changed?)", e);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().config().setWriteBufferWaterMark(WATER_MARK);
        channels.incrementAndGet();
    }

    /** How many client channels were given room so far. */
    int channels() {
        return channels.get();
    }
}
