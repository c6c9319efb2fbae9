package dev.wscrt.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Socket options: defaults and fluent setters. Pure Java. */
class SocketOptionsTest {

    @Test
    void defaultsAreAThreeSecondConnectTimeoutAndNoDelay() {
        SocketOptions o = new SocketOptions();
        assertEquals(3000, o.connectTimeoutMs());
        assertTrue(o.noDelay());
        assertFalse(o.keepAlive());
        assertEquals(SocketOptions.Domain.UNSPEC, o.domain());
    }

    @Test
    void fluentSettersSetAndReturnTheSameOptions() {
        SocketOptions o = new SocketOptions();
        assertSame(o, o.withConnectTimeoutMs(500)
                .withKeepAlive(true)
                .withKeepAliveIntervalSecs(7)
                .withKeepAliveTimeoutSecs(9)
                .withDomain(SocketOptions.Domain.IPV6)
                .withNoDelay(false));
        assertEquals(500, o.connectTimeoutMs());
        assertTrue(o.keepAlive());
        assertEquals(7, o.keepAliveIntervalSecs());
        assertEquals(9, o.keepAliveTimeoutSecs());
        assertEquals(SocketOptions.Domain.IPV6, o.domain());
        assertFalse(o.noDelay());
    }
}
