#!/usr/bin/env python3
"""Writes the seed corpus in corpus/<target>/ from the byte literals below.

Every seed starts with the four configuration bytes read by fuzz_support.h:
options (per target), split (bits 0-2: largest piece 1/2/3/5/8/17/64/4096,
bit 3: empty pieces allowed) and a 16-bit seed for the piece lengths. The
rest is what a server would send. Run it again after editing: it rewrites
the folder from scratch, so the files here are the whole corpus.

    python3 crt/tests/fuzz/make_corpus.py
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def config(options=0, split=0x07, seed=0):
    return bytes([options, split]) + struct.pack(">H", seed)


# ---- WebSocket frames (RFC 6455 5.2), server to client: never masked ----

def frame(opcode, payload=b"", fin=True, rsv=0, length_form=None, masked=False):
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    form = length_form or ("7" if n < 126 else "16" if n < 65536 else "64")
    mask_bit = 0x80 if masked else 0
    if form == "7":
        head = bytes([first, mask_bit | n])
    elif form == "16":
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if masked:
        head += b"\x11\x22\x33\x44"
    return head + payload


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def close(code=None, reason=b""):
    return frame(CLOSE, b"" if code is None else struct.pack(">H", code) + reason)


WEBSOCKET_DECODER = {
    # Valid traffic.
    "text_hello": config(0x00, 0x07) + frame(TEXT, b"Hello"),
    "text_empty_then_binary_empty": config(0x01, 0x02, 7) + frame(TEXT) + frame(BINARY),
    "binary_len16": config(0x05, 0x04, 3) + frame(BINARY, bytes(range(200))),
    "binary_len64_cut_short": config(0x0B, 0x06, 9)
    + bytes([0x82, 127]) + struct.pack(">Q", 70000) + b"\xAB" * 300,
    "text_utf8_multibyte": config(0x00, 0x00)
    + frame(TEXT, "a\u00e9\u20ac\U0001F600 z0123456789\U0010FFFF".encode()),
    "fragmented_text_ping_between": config(0x02, 0x01, 5)
    + frame(TEXT, b"Hel", fin=False) + frame(PING, b"p") + frame(CONT, b"lo", fin=False) + frame(CONT, b"!"),
    "fragmented_utf8_split_codepoint": config(0x03, 0x00)
    + frame(TEXT, b"\xE2\x82", fin=False) + frame(CONT, b"\xAC\xF0\x9F", fin=False) + frame(CONT, b"\x98\x80"),
    "fragmented_binary_pong_between": config(0x87, 0x03, 11)
    + frame(BINARY, b"\x00\x01", fin=False) + frame(PONG) + frame(CONT, b"\x02"),
    "close_normal_reason": config(0x00, 0x02) + close(1000, b"bye"),
    "close_empty": config(0x00, 0x07) + close(),
    "close_4999_utf8_reason": config(0x08, 0x01, 2) + close(4999, "\u00e9t\u00e9".encode()),
    "ping_125": config(0x08, 0x05, 1) + frame(PING, b"x" * 125),
    "stream_then_close_stop_variant": config(0x86, 0x03, 77)
    + frame(TEXT, b"one") + frame(BINARY, b"\xff\x00") + frame(PING, b"hi") + close(1001),
    "compressed_text_rsv1_allowed": config(0x40, 0x02, 4)
    + frame(TEXT, b"\xF2\x48\xCD\xC9\xC9\x07\x00", rsv=0x40) + frame(TEXT, b"plain"),
    # Violations: each must fail with the right error.
    "bad_masked_frame": config(0x00, 0x07) + frame(TEXT, b"Hi", masked=True),
    "bad_reserved_opcode": config(0x00, 0x07) + frame(0x3, b"?"),
    "bad_rsv_not_negotiated": config(0x00, 0x07) + frame(TEXT, b"x", rsv=0x40),
    "bad_fragmented_ping": config(0x00, 0x07) + frame(PING, b"p", fin=False),
    "bad_ping_126": config(0x00, 0x07) + frame(PING, b"p" * 126),
    "bad_close_one_byte": config(0x00, 0x07) + frame(CLOSE, b"\x03"),
    "bad_close_code_1005": config(0x00, 0x07) + close(1005),
    "bad_close_reason_utf8": config(0x00, 0x01) + close(1000, b"\xC0\xAF"),
    "bad_continuation_first": config(0x00, 0x07) + frame(CONT, b"x"),
    "bad_text_inside_message": config(0x00, 0x07) + frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"),
    "bad_non_minimal_16": config(0x00, 0x07) + frame(BINARY, b"abc", length_form="16"),
    "bad_non_minimal_64": config(0x00, 0x07) + frame(BINARY, b"abc" * 50, length_form="64"),
    "bad_length_top_bit": config(0x00, 0x07) + bytes([0x82, 127]) + b"\x80" + b"\x00" * 7,
    "bad_text_overlong": config(0x00, 0x00) + frame(TEXT, b"ok\xC0\xAF"),
    "bad_text_surrogate_late": config(0x0A, 0x03, 6) + frame(TEXT, b"abc", fin=False) + frame(CONT, b"\xED\xA0\x80"),
    "bad_text_ends_mid_codepoint": config(0x00, 0x07) + frame(TEXT, b"\xE2\x82"),
}


# ---- HTTP responses ----

def crlf(*lines, end=b"\r\n"):
    return b"".join(line + end for line in lines) + end


UPGRADE_101 = crlf(
    b"HTTP/1.1 101 Switching Protocols",
    b"Upgrade: websocket",
    b"Connection: Upgrade",
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
)

HTTP_RESPONSE_PARSER = {
    "101_upgrade_then_frame": config(0x00, 0x04, 1) + UPGRADE_101 + frame(TEXT, b"hi"),
    "101_bare_lf_no_reason": config(0x00, 0x02, 3)
    + crlf(b"HTTP/1.1 101", b"upgrade:websocket", b"connection: keep-alive, Upgrade", end=b"\n"),
    "100_continue_then_101": config(0x00, 0x05, 2) + crlf(b"HTTP/1.1 100 Continue") + UPGRADE_101,
    "103_early_hints_then_403": config(0x0C, 0x03, 8)
    + crlf(b"HTTP/1.1 103 Early Hints", b"Link: </s.css>; rel=preload")
    + crlf(b"HTTP/1.1 403 Forbidden", b"Content-Length: 5") + b"nope!",
    "403_content_length": config(0x00, 0x07)
    + crlf(b"HTTP/1.1 403 Forbidden", b"Content-Type: text/plain", b"Content-Length: 13") + b"access denied",
    "403_chunked": config(0x00, 0x01, 4)
    + crlf(b"HTTP/1.1 403 Forbidden", b"Transfer-Encoding: chunked")
    + b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    "500_gzip_chunked": config(0x00, 0x06, 5)
    + crlf(b"HTTP/1.1 500 Internal Server Error", b"Transfer-Encoding: gzip, chunked")
    + b"A\r\n0123456789\r\n0\r\n\r\n",
    "404_until_eof": config(0x80, 0x03, 6) + crlf(b"HTTP/1.0 404 Not Found", b"Server: x") + b"body till close",
    "200_connect_tunnel": config(0x01, 0x02, 9)
    + crlf(b"HTTP/1.1 200 Connection established", b"Proxy-Agent: p") + b"\x16\x03\x01",
    "407_proxy_auth": config(0x01, 0x07)
    + crlf(b"HTTP/1.1 407 Proxy Authentication Required", b"Proxy-Authenticate: Basic realm=\"p\"",
           b"Content-Length: 0"),
    "204_no_body": config(0x00, 0x07) + crlf(b"HTTP/1.1 204 No Content", b"Content-Length: 99") + b"next",
    "304_not_modified": config(0x80, 0x01) + crlf(b"HTTP/1.1 304 Not Modified", b"ETag: \"x\""),
    "duplicate_content_length": config(0x00, 0x07)
    + crlf(b"HTTP/1.1 400 Bad Request", b"Content-Length: 3, 3", b"content-length: 3") + b"abc",
    "small_header_limit": config(0x08, 0x02, 12) + UPGRADE_101,
    "small_body_limit": config(0x30, 0x03, 13)
    + crlf(b"HTTP/1.1 403 Forbidden", b"Content-Length: 40") + b"x" * 40,
    # Violations.
    "bad_not_http": config(0x00, 0x07) + b"SSH-2.0-OpenSSH_9.2\r\n",
    "bad_obs_fold": config(0x00, 0x07) + crlf(b"HTTP/1.1 403 Forbidden", b"X: a", b" folded"),
    "bad_space_before_colon": config(0x00, 0x07) + crlf(b"HTTP/1.1 101 OK", b"Upgrade : websocket"),
    "bad_conflicting_length": config(0x00, 0x07)
    + crlf(b"HTTP/1.1 403 Forbidden", b"Content-Length: 3", b"Content-Length: 4") + b"abcd",
    "bad_chunk_size": config(0x00, 0x07)
    + crlf(b"HTTP/1.1 403 Forbidden", b"Transfer-Encoding: chunked") + b"zz\r\n",
    "bad_status_999": config(0x00, 0x07) + crlf(b"HTTP/1.1 999 What"),
    "bad_nul_in_value": config(0x00, 0x07) + crlf(b"HTTP/1.1 101 OK", b"Upgrade: web\x00socket"),
    "bad_eof_mid_body": config(0x80, 0x07) + crlf(b"HTTP/1.1 403 Forbidden", b"Content-Length: 10") + b"abc",
}


# ---- permessage-deflate answers (RFC 7692 7), one header value per line ----
# options: bits 0-2 client_max_window_bits class (0, 8, 9, 10, 12, 13, 14, 15), bits 3-5 server
# class (0, 8, 9, 11, 12, 14, 15, 10), bit 6 client_no_context_takeover, bit 7 server_no_context_takeover.

WEBSOCKET_EXTENSIONS = {
    "plain": config(0x00) + b"permessage-deflate",
    "all_params": config(0x07 | 0x30 | 0x40 | 0x80)
    + b"permessage-deflate; client_max_window_bits=10; server_max_window_bits=9;"
    b" client_no_context_takeover; server_no_context_takeover",
    "quoted_and_spaced": config(0x07) + b" PerMessage-Deflate ;server_max_window_bits = \"12\" ; client_max_window_bits=8 ",
    "two_headers": config(0x07) + b"permessage-deflate; client_max_window_bits=9\n , ",
    "declined_empty": config(0x80) + b" , \n",
    "other_extension": config(0x00) + b"x-webkit-deflate-frame",
    "twice": config(0x00) + b"permessage-deflate\npermessage-deflate",
    "unknown_param": config(0x00) + b"permessage-deflate; mem_level=8",
    "duplicate_param": config(0x00) + b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "bad_window": config(0x00) + b"permessage-deflate; server_max_window_bits=16",
    "leading_zero": config(0x00) + b"permessage-deflate; server_max_window_bits=09",
    "not_offered": config(0x00) + b"permessage-deflate; client_max_window_bits=10",
    "missing_required": config(0x80) + b"permessage-deflate",
    "window_too_large": config(0x08) + b"permessage-deflate; server_max_window_bits=9",
    "malformed_quote": config(0x00) + b"permessage-deflate; server_max_window_bits=\"1\\0",
    "invalid_offer": config(0x00, 0x01, 0x1007) + b"permessage-deflate",
}


# ---- permessage-deflate messages as frames (RFC 7692 7.2.3) ----
# options: bits 0-2 window bits - 8, bit 3 no context takeover, bits 4-6 cap class
# (1, 5, 100, 1000, 16384, 16385, 65536, 1 MiB), bit 7 round trip (the stream is message contents).

def deflated(data, bits=15, level=6):
    import zlib
    c = zlib.compressobj(level, zlib.DEFLATED, -bits, 8)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


HELLO = b"\xf2\x48\xcd\xc9\xc9\x07\x00"
WEBSOCKET_INFLATE = {
    "rfc_hello": config(0x77) + frame(TEXT, HELLO, rsv=0x40),
    "rfc_hello_takeover": config(0x77) + frame(TEXT, HELLO, rsv=0x40) + frame(TEXT, b"\xf2\x00\x11\x00\x00", rsv=0x40),
    "rfc_stored_and_final": config(0x77, 0x03, 5)
    + frame(BINARY, b"\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00", rsv=0x40)
    + frame(BINARY, b"\xf3\x48\xcd\xc9\xc9\x07\x00\x00", rsv=0x40),
    "fragments_ping_between": config(0x77, 0x02, 3)
    + frame(TEXT, HELLO[:3], fin=False, rsv=0x40) + frame(PING, b"p") + frame(CONT, HELLO[3:]),
    "mixed_plain_and_compressed": config(0x57)
    + frame(TEXT, b"plain") + frame(BINARY, deflated(b"abc" * 200), rsv=0x40) + frame(TEXT, b"", rsv=0x40),
    "zeros_over_cap": config(0x47, 0x05, 11) + frame(BINARY, deflated(bytes(100000), level=9), rsv=0x40),
    "window_9_no_takeover": config(0x19)
    + frame(BINARY, deflated(b"0123456789" * 100, bits=9), rsv=0x40)
    + frame(BINARY, deflated(b"0123456789" * 100, bits=9), rsv=0x40),
    "invalid_block_type": config(0x77) + frame(BINARY, b"\xff\xff", rsv=0x40),
    "misplaced_rsv1": config(0x77) + frame(TEXT, HELLO[:3], fin=False, rsv=0x40) + frame(CONT, HELLO[3:], rsv=0x40),
    "round_trip_text": config(0x87, 0x05, 77) + b"Hello, permessage-deflate! " * 20,
    "round_trip_small_window": config(0x88, 0x03, 1234) + bytes(range(256)) * 3,
    "round_trip_empty": config(0x8F, 0x0F),
}


# ---- UTF-8 text (options byte unused) ----

UTF8 = {
    "ascii_long": config(0x00, 0x07) + b"The quick brown fox jumps over the lazy dog 0123456789.",
    "two_three_four_byte": config(0x00, 0x00) + "\u00e9\u20ac\U0001F600".encode(),
    "boundaries": config(0x00, 0x02, 1)
    + b"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF",
    "mixed_fast_path": config(0x00, 0x04, 3) + b"abcdefgh" * 3 + "\u65e5\u672c\u8a9e".encode() + b"ijklmnop" * 2,
    "greek_kosme": config(0x00, 0x01, 2) + "\u03ba\u1f79\u03c3\u03bc\u03b5".encode(),
    "bad_overlong_slash": config(0x00, 0x07) + b"a\xC0\xAF",
    "bad_overlong_e0": config(0x00, 0x00) + b"\xE0\x80\xAF",
    "bad_surrogate": config(0x00, 0x01) + b"ok\xED\xA0\x80",
    "bad_above_10ffff": config(0x00, 0x02) + b"\xF4\x90\x80\x80",
    "bad_f5_lead": config(0x00, 0x07) + b"\xF5\x80\x80\x80",
    "bad_lone_continuation": config(0x00, 0x07) + b"abc\x80def",
    "bad_truncated_end": config(0x00, 0x03, 4) + b"text\xF0\x9F\x98",
    "bad_after_ascii_run": config(0x00, 0x05, 5) + b"0123456789abcdef\xFF",
}


# ---- TLS 1.3 records (tls_records_fuzz.c): the inner plaintexts the server protects ----

def rec(content, content_type=23, padding=0, flip=None):
    inner = content + bytes([content_type]) + b"\x00" * padding
    head = struct.pack(">H", len(inner)) + bytes([1 if flip is not None else 0])
    return head + (bytes([flip]) if flip is not None else b"") + inner


KEY_UPDATE_REQUESTED = bytes([24, 0, 0, 1, 1])
KEY_UPDATE_NOT_REQUESTED = bytes([24, 0, 0, 1, 0])
TICKET = bytes([4, 0, 0, 6]) + b"ticket"
CLOSE_NOTIFY = bytes([1, 0])

TLS_RECORDS = {
    "data": config(0x00, 0x07) + rec(b"hello") + rec(b"x" * 100, padding=5) + rec(b""),
    "chacha_data": config(0x02, 0x03, 9) + rec(b"chacha" * 20) + rec(b"more"),
    "aes256_high_seq": config(0x41, 0x05, 2) + rec(b"a") + rec(b"b") + rec(b"c") + rec(b"d") + rec(b"e"),
    "key_update_requested": config(0x00, 0x05, 3)
    + rec(b"ab") + rec(KEY_UPDATE_REQUESTED, 22) + rec(b"after the update"),
    "key_update_write_shut": config(0x20, 0x06, 4)
    + rec(KEY_UPDATE_REQUESTED, 22) + rec(b"x") + rec(KEY_UPDATE_NOT_REQUESTED, 22) + rec(b"y"),
    "ticket_then_data": config(0x00, 0x02, 5) + rec(TICKET, 22) + rec(b"data", padding=3),
    "close_notify_then_more": config(0x00, 0x07) + rec(b"last") + rec(CLOSE_NOTIFY, 21) + rec(b"never"),
    "big_record_small_reader": config(0x04, 0x07, 6) + rec(b"y" * 3000) + rec(b"z" * 20),
    "mixed_reader_sizes": config(0x1C, 0x06, 8) + rec(b"m" * 500) + rec(b"n" * 17) + rec(b"o" * 2000),
    "bad_tampered": config(0x00, 0x07) + rec(b"fine") + rec(b"hello", flip=3) + rec(b"unread"),
    "bad_content_type": config(0x00, 0x07) + rec(b"x", 0x19),
    "bad_all_padding": config(0x00, 0x07) + rec(b"", 0, padding=8),
    "bad_alert": config(0x00, 0x07) + rec(bytes([2, 40]), 21),
    "bad_key_update_value": config(0x00, 0x07) + rec(bytes([24, 0, 0, 1, 2]), 22),
    "bad_data_after_key_update": config(0x00, 0x07) + rec(KEY_UPDATE_NOT_REQUESTED + b"x", 22),
    "split_ticket": config(0x00, 0x01, 1) + rec(TICKET[:3], 22) + rec(TICKET[3:], 22) + rec(b"after"),
    "bad_split_interrupted": config(0x00, 0x07) + rec(TICKET[:3], 22) + rec(b"data"),
}


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("websocket_decoder", WEBSOCKET_DECODER)
    write("http_response_parser", HTTP_RESPONSE_PARSER)
    write("utf8", UTF8)
    write("websocket_extensions", WEBSOCKET_EXTENSIONS)
    write("websocket_inflate", WEBSOCKET_INFLATE)
    write("tls_records", TLS_RECORDS)
