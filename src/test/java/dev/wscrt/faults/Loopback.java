package dev.wscrt.faults;

import dev.wscrt.testing.Sockets;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/** Raw 127.0.0.1 sockets the scripted server does not offer: closed ports, full backlogs, EOF probes. */
final class Loopback {

    private Loopback() {
    }

    static InetAddress address() {
        try {
            return InetAddress.getByName("127.0.0.1");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A port that was just free on 127.0.0.1: nothing listens there, so a connect is refused. */
    static int closedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, address())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError("cannot bind on 127.0.0.1", e);
        }
    }

    /** A listener on 127.0.0.1 that the test accepts from itself (with a bounded wait). */
    static ServerSocket listener(int backlog) {
        try {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(address(), 0), backlog);
            s.setSoTimeout(10_000);
            return s;
        } catch (IOException e) {
            throw new AssertionError("cannot bind on 127.0.0.1", e);
        }
    }

    /**
     * A listener that never accepts, with its accept queue full: further SYNs are dropped, so a connect
     * hangs until its own timeout. Close the result to release the filler connections too.
     */
    static final class FullBacklog implements AutoCloseable {
        private final ServerSocket listener;
        private final List<Socket> fillers = new ArrayList<>();
        private final int queued;

        FullBacklog() {
            listener = listener(1);
            int connected = 0;
            int stalledInARow = 0;
            // Bounded: Linux queues backlog + 1. Two stalls in a row, so that one slow probe on a
            // loaded machine is not taken for a full queue.
            for (int attempt = 0; attempt < 64 && stalledInARow < 2; attempt++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(listener.getLocalSocketAddress(), 200);
                    connected++;
                    stalledInARow = 0;
                } catch (IOException stalled) {
                    stalledInARow++;
                }
            }
            boolean full = stalledInARow == 2;
            if (!full) {
                close();
                throw new AssertionError("the accept backlog did not fill within 64 connections");
            }
            queued = connected;
        }

        int port() {
            return listener.getLocalPort();
        }

        /** Connections sitting in the accept queue. */
        int queued() {
            return queued;
        }

        @Override
        public void close() {
            for (Socket s : fillers) {
                Sockets.closeQuietly(s);
            }
            Sockets.closeQuietly(listener);
        }
    }

    /**
     * True once the peer has ended {@code socket} (EOF or reset); anything it still sends is read and
     * discarded. Waits at most 1 ms.
     */
    static boolean endedByPeer(Socket socket) {
        byte[] sink = new byte[8192];
        try {
            socket.setSoTimeout(1);
            InputStream in = socket.getInputStream();
            while (true) {
                if (in.read(sink) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (SocketException reset) {
            return true;
        } catch (IOException e) {
            throw new AssertionError("read failed: " + e, e);
        }
    }
}
