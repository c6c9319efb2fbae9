// MQTT 3.1.1 over wss with wscrt: CONNECT, wait for CONNACK, DISCONNECT. Run from the repository root:
//   java -cp target/classes examples/MqttOverWss.java wss://127.0.0.1:8883/mqtt ca.pem
import dev.wscrt.io.TlsContext;
import dev.wscrt.io.TlsContextOptions;
import dev.wscrt.websocket.WebSocketConnection;
import dev.wscrt.websocket.WebSocketListener;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public class MqttOverWss {
    public static void main(String[] args) throws Exception {
        var tls = new TlsContext(TlsContextOptions.createDefaultClient()
                .withCertificateAuthority(Files.readString(Path.of(args[1]))));
        var connAck = new CompletableFuture<ByteBuffer>();
        var ws = WebSocketConnection.builder(URI.create(args[0]))
                .subprotocols("mqtt") // MQTT over WebSocket: the mqtt subprotocol (MQTT 3.1.1 section 6)
                .tlsContext(tls)
                .connect(new WebSocketListener() {
                    public void onBinary(WebSocketConnection c, ByteBuffer data) { connAck.complete(data); }
                    public void onError(WebSocketConnection c, Throwable e) { connAck.completeExceptionally(e); }
                }).get(10, TimeUnit.SECONDS);
        byte[] connect = {0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, // CONNECT, MQTT 3.1.1, clean, 60 s
                0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e'};                   // client id "example"
        ws.sendBinary(connect);
        ByteBuffer ack = connAck.get(10, TimeUnit.SECONDS);                 // CONNACK: 0x20 0x02 flags code
        System.out.println(ack.get(0) == 0x20 && ack.get(3) == 0 ? "CONNACK: accepted" : "CONNACK: refused");
        ws.sendBinary(new byte[] {(byte) 0xE0, 0});                         // DISCONNECT
        ws.close(1000, null).exceptionally(e -> null).get(10, TimeUnit.SECONDS);
        tls.close();
        System.exit(ack.get(3) == 0 ? 0 : 1);
    }
}
