/* permessage-deflate negotiation (RFC 7692 section 7): the offer, and the server's answer read strictly. */
#include "common/allocator.h"
#include "common/byte_buf.h"
#include "common/error.h"
#include "http/websocket_extensions.h"
#include "test_harness.h"

#define EXPECT(call) ASSERT_INT_EQ(0, (call))

static struct wscrt_byte_cursor s_c(const char *text) {
    return wscrt_byte_cursor_from_c_str(text);
}

/* ---- the offer ---- */

static int s_expect_offer(struct wscrt_allocator *allocator, struct wscrt_websocket_deflate_options options,
                          const char *expected) {
    struct wscrt_byte_buf out;
    wscrt_byte_buf_init(&out, allocator, 8);
    int result = wscrt_websocket_deflate_write_offer(&options, &out);
    bool same = wscrt_byte_cursor_eq(wscrt_byte_cursor_from_buf(&out), s_c(expected));
    if (result == WSCRT_OP_SUCCESS && !same) {
        fprintf(stderr, "  offer: '%.*s'\n  expected: '%s'\n", (int)out.len, (const char *)out.buffer, expected);
    }
    wscrt_byte_buf_clean_up(&out);
    ASSERT_SUCCESS(result);
    ASSERT_TRUE(same);
    return 0;
}

static int s_test_offer_lists_the_chosen_parameters(struct wscrt_allocator *allocator) {
    struct wscrt_websocket_deflate_options plain = {0};
    EXPECT(s_expect_offer(allocator, plain, "permessage-deflate"));
    struct wscrt_websocket_deflate_options any_client_window = {.client_max_window_bits = 15};
    EXPECT(s_expect_offer(allocator, any_client_window, "permessage-deflate; client_max_window_bits"));
    struct wscrt_websocket_deflate_options all = {
        .client_max_window_bits = 9,
        .server_max_window_bits = 8,
        .client_no_context_takeover = true,
        .server_no_context_takeover = true,
    };
    EXPECT(s_expect_offer(allocator, all,
                          "permessage-deflate; client_max_window_bits=9; server_max_window_bits=8; "
                          "client_no_context_takeover; server_no_context_takeover"));
    struct wscrt_websocket_deflate_options server_15 = {.server_max_window_bits = 15};
    EXPECT(s_expect_offer(allocator, server_15, "permessage-deflate; server_max_window_bits=15"));
    return 0;
}

static int s_test_offer_refuses_window_bits_outside_8_to_15(struct wscrt_allocator *allocator) {
    const uint8_t bad[] = {1, 7, 16, 255};
    for (size_t i = 0; i < sizeof(bad); ++i) {
        struct wscrt_websocket_deflate_options client = {.client_max_window_bits = bad[i]};
        struct wscrt_websocket_deflate_options server = {.server_max_window_bits = bad[i]};
        struct wscrt_byte_buf out;
        wscrt_byte_buf_init(&out, allocator, 8);
        ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_websocket_deflate_write_offer(&client, &out));
        ASSERT_ERROR(WSCRT_ERROR_INVALID_ARGUMENT, wscrt_websocket_deflate_write_offer(&server, &out));
        ASSERT_UINT_EQ(0, out.len);
        wscrt_byte_buf_clean_up(&out);
    }
    return 0;
}

/* ---- the answer ---- */

/* Parses `answer` as one header value (NULL = no header) against `offer`. */
static int s_parse(struct wscrt_websocket_deflate_options offer, const char *answer, bool *accepted,
                   struct wscrt_websocket_deflate_params *params) {
    struct wscrt_byte_cursor value = answer ? s_c(answer) : (struct wscrt_byte_cursor){0};
    wscrt_reset_error();
    return wscrt_websocket_deflate_parse_answer(&offer, &value, answer ? 1 : 0, accepted, params);
}

static int s_expect_params(struct wscrt_websocket_deflate_options offer, const char *answer, uint8_t client_bits,
                           uint8_t server_bits, bool client_no_takeover, bool server_no_takeover) {
    bool accepted = false;
    struct wscrt_websocket_deflate_params params;
    if (s_parse(offer, answer, &accepted, &params)) {
        WSCRT_FAIL_("'%s' refused with %s", answer, wscrt_error_name(wscrt_last_error()));
    }
    ASSERT_TRUE(accepted);
    ASSERT_UINT_EQ(client_bits, params.client_max_window_bits);
    ASSERT_UINT_EQ(server_bits, params.server_max_window_bits);
    ASSERT_INT_EQ(client_no_takeover, params.client_no_context_takeover);
    ASSERT_INT_EQ(server_no_takeover, params.server_no_context_takeover);
    return 0;
}

static int s_expect_refused(struct wscrt_websocket_deflate_options offer, const char *answer, int expected_error) {
    bool accepted = true;
    struct wscrt_websocket_deflate_params params;
    int result = s_parse(offer, answer, &accepted, &params);
    if (result != WSCRT_OP_ERR || wscrt_last_error() != expected_error) {
        WSCRT_FAIL_("'%s' gave %s, expected %s", answer, result ? wscrt_error_name(wscrt_last_error()) : "success",
                    wscrt_error_name(expected_error));
    }
    ASSERT_FALSE(accepted);
    return 0;
}

/* Each answer refused with `expected_error`; the first that is not fails the test. */
static int s_expect_each_refused(struct wscrt_websocket_deflate_options offer, const char *const *answers, size_t count,
                                 int expected_error) {
    for (size_t i = 0; i < count; ++i) {
        EXPECT(s_expect_refused(offer, answers[i], expected_error));
    }
    return 0;
}

static int s_test_plain_answer_gives_rfc_defaults(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options plain = {0};
    EXPECT(s_expect_params(plain, "permessage-deflate", 15, 15, false, false));
    EXPECT(s_expect_params(plain, "  PerMessage-Deflate  ", 15, 15, false, false));
    return 0;
}

static int s_test_no_answer_means_declined_without_error(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.server_no_context_takeover = true};
    const char *answers[] = {NULL, "", " ", ",", " , ,"};
    for (size_t i = 0; i < WSCRT_COUNT_OF(answers); ++i) {
        bool accepted = true;
        struct wscrt_websocket_deflate_params params;
        ASSERT_SUCCESS(s_parse(offer, answers[i], &accepted, &params));
        ASSERT_FALSE(accepted);
    }
    return 0;
}

static int s_test_every_parameter_is_read_with_any_spacing_and_quoting(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.client_max_window_bits = 15};
    EXPECT(s_expect_params(offer,
                           "permessage-deflate;client_max_window_bits=9;server_max_window_bits=12;"
                           "client_no_context_takeover;server_no_context_takeover",
                           9, 12, true, true));
    EXPECT(s_expect_params(offer, "permessage-deflate ; Server_Max_Window_Bits = \"10\" ; client_max_window_bits=\t15",
                           15, 10, false, false));
    /* A quoted-pair may escape a token character. */
    EXPECT(s_expect_params(offer, "permessage-deflate; server_max_window_bits=\"1\\1\"", 15, 11, false, false));
    /* Empty list elements around the one extension are skipped. */
    EXPECT(s_expect_params(offer, ", permessage-deflate; server_no_context_takeover ,", 15, 15, false, true));
    return 0;
}

static int s_test_negotiated_client_window_is_the_smaller_of_offer_and_answer(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer_12 = {.client_max_window_bits = 12};
    EXPECT(s_expect_params(offer_12, "permessage-deflate", 12, 15, false, false));
    EXPECT(s_expect_params(offer_12, "permessage-deflate; client_max_window_bits=10", 10, 15, false, false));
    EXPECT(s_expect_params(offer_12, "permessage-deflate; client_max_window_bits=14", 12, 15, false, false));
    /* 8 is agreed as such; the deflater then sends uncompressed (zlib's raw deflate needs 9). */
    EXPECT(s_expect_params(offer_12, "permessage-deflate; client_max_window_bits=8", 8, 15, false, false));
    return 0;
}

static int s_test_client_no_context_takeover_applies_when_offered_or_answered(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offered = {.client_no_context_takeover = true};
    EXPECT(s_expect_params(offered, "permessage-deflate", 15, 15, true, false));
    struct wscrt_websocket_deflate_options plain = {0};
    EXPECT(s_expect_params(plain, "permessage-deflate; client_no_context_takeover", 15, 15, true, false));
    /* The server may also reset on its own, and limit its own window, unasked (RFC 7692 7.1.1.1, 7.1.2.1). */
    EXPECT(s_expect_params(plain, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", 15, 9,
                           false, true));
    return 0;
}

static int s_test_other_extensions_fail_with_unexpected_extension(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options plain = {0};
    const char *answers[] = {
        "x-webkit-deflate-frame",
        "permessage-deflate, x-custom",
        "x-custom; permessage-deflate",
        "permessage-deflate-x",
        "deflate-frame",
    };
    return s_expect_each_refused(plain, answers, WSCRT_COUNT_OF(answers), WSCRT_ERROR_WEBSOCKET_UNEXPECTED_EXTENSION);
}

static int s_test_permessage_deflate_twice_fails_with_multiple_extensions(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options plain = {0};
    EXPECT(s_expect_refused(plain, "permessage-deflate, permessage-deflate", WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS));
    EXPECT(s_expect_refused(plain, "permessage-deflate; server_no_context_takeover, permessage-deflate",
                            WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS));
    /* Across headers too. */
    struct wscrt_byte_cursor values[] = {s_c("permessage-deflate"), s_c(" PERMESSAGE-DEFLATE")};
    bool accepted = true;
    struct wscrt_websocket_deflate_params params;
    ASSERT_ERROR(WSCRT_ERROR_WEBSOCKET_MULTIPLE_EXTENSIONS,
                 wscrt_websocket_deflate_parse_answer(&plain, values, 2, &accepted, &params));
    ASSERT_FALSE(accepted);
    return 0;
}

static int s_test_malformed_lists_fail_with_malformed_extension_header(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.client_max_window_bits = 15};
    const char *answers[] = {
        ";",
        "; server_no_context_takeover",
        "permessage-deflate;",
        "permessage-deflate; ",
        "permessage-deflate;; server_no_context_takeover",
        "permessage-deflate server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=",
        "permessage-deflate; server_max_window_bits= ;",
        "permessage-deflate; server_max_window_bits=\"10",
        "permessage-deflate; server_max_window_bits=\"\"",
        "permessage-deflate; server_max_window_bits=\"1 0\"",
        "permessage-deflate; server_max_window_bits=\"10\\\"",
        "permessage-deflate; server_max_window_bits=10 11",
        "permessage-deflate; server_max_window_bits==10",
        "permessage-deflate; =10",
        "permessage-deflate; server_max_window_bits=(10)",
        "permessage-deflate\x01",
        "\"permessage-deflate\"",
        /* Syntax is checked for a whole element before its names and values are judged. */
        "x-custom extra",
        "permessage-deflate; unknown; server_max_window_bits=",
        "permessage-deflate; server_max_window_bits=99; x=\"",
    };
    return s_expect_each_refused(offer, answers, WSCRT_COUNT_OF(answers),
                                 WSCRT_ERROR_WEBSOCKET_MALFORMED_EXTENSION_HEADER);
}

static int s_test_unknown_parameters_fail(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.client_max_window_bits = 15};
    const char *answers[] = {
        "permessage-deflate; x",
        "permessage-deflate; max_window_bits=10",
        "permessage-deflate; server_max_window_bit=10",
        "permessage-deflate; client_no_context_takeover; mem_level=8",
        "permessage-deflate; server_no_context_takeover_",
    };
    return s_expect_each_refused(offer, answers, WSCRT_COUNT_OF(answers),
                                 WSCRT_ERROR_WEBSOCKET_UNKNOWN_EXTENSION_PARAMETER);
}

static int s_test_duplicate_parameters_fail(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.client_max_window_bits = 15};
    const char *answers[] = {
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; CLIENT_NO_CONTEXT_TAKEOVER",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
    };
    return s_expect_each_refused(offer, answers, WSCRT_COUNT_OF(answers),
                                 WSCRT_ERROR_WEBSOCKET_DUPLICATE_EXTENSION_PARAMETER);
}

static int s_test_bad_parameter_values_fail(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options offer = {.client_max_window_bits = 15};
    const char *answers[] = {
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=0",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; server_max_window_bits=1e1",
        "permessage-deflate; server_max_window_bits=a",
        "permessage-deflate; server_max_window_bits=100000000000000000009",
        "permessage-deflate; server_max_window_bits=\"00000000000000000000000010\"",
        "permessage-deflate; client_max_window_bits=15.0",
        "permessage-deflate; server_no_context_takeover=true",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"\\x\"",
    };
    return s_expect_each_refused(offer, answers, WSCRT_COUNT_OF(answers),
                                 WSCRT_ERROR_WEBSOCKET_BAD_EXTENSION_PARAMETER);
}

static int s_test_answers_that_do_not_honour_the_offer_fail(struct wscrt_allocator *allocator) {
    (void)allocator;
    /* client_max_window_bits was not offered: the server may not limit our window. */
    struct wscrt_websocket_deflate_options plain = {0};
    EXPECT(s_expect_refused(plain, "permessage-deflate; client_max_window_bits=10",
                            WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED));
    /* server_max_window_bits requested: the answer must have it, at most as large. */
    struct wscrt_websocket_deflate_options server_10 = {.server_max_window_bits = 10};
    EXPECT(s_expect_refused(server_10, "permessage-deflate", WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED));
    EXPECT(s_expect_refused(server_10, "permessage-deflate; server_max_window_bits=11",
                            WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED));
    EXPECT(s_expect_params(server_10, "permessage-deflate; server_max_window_bits=10", 15, 10, false, false));
    EXPECT(s_expect_params(server_10, "permessage-deflate; server_max_window_bits=8", 15, 8, false, false));
    /* server_no_context_takeover requested: the answer must have it. */
    struct wscrt_websocket_deflate_options reset = {.server_no_context_takeover = true};
    EXPECT(s_expect_refused(reset, "permessage-deflate", WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED));
    EXPECT(s_expect_refused(reset, "permessage-deflate; client_no_context_takeover",
                            WSCRT_ERROR_WEBSOCKET_EXTENSION_PARAMETER_NOT_ALLOWED));
    EXPECT(s_expect_params(reset, "permessage-deflate; server_no_context_takeover", 15, 15, false, true));
    return 0;
}

static int s_test_invalid_offer_is_refused_when_reading_an_answer(struct wscrt_allocator *allocator) {
    (void)allocator;
    struct wscrt_websocket_deflate_options bad = {.client_max_window_bits = 16};
    EXPECT(s_expect_refused(bad, "permessage-deflate", WSCRT_ERROR_INVALID_ARGUMENT));
    return 0;
}

WSCRT_TEST_MAIN(s_test_offer_lists_the_chosen_parameters,
                s_test_offer_refuses_window_bits_outside_8_to_15,
                s_test_plain_answer_gives_rfc_defaults,
                s_test_no_answer_means_declined_without_error,
                s_test_every_parameter_is_read_with_any_spacing_and_quoting,
                s_test_negotiated_client_window_is_the_smaller_of_offer_and_answer,
                s_test_client_no_context_takeover_applies_when_offered_or_answered,
                s_test_other_extensions_fail_with_unexpected_extension,
                s_test_permessage_deflate_twice_fails_with_multiple_extensions,
                s_test_malformed_lists_fail_with_malformed_extension_header,
                s_test_unknown_parameters_fail,
                s_test_duplicate_parameters_fail,
                s_test_bad_parameter_values_fail,
                s_test_answers_that_do_not_honour_the_offer_fail,
                s_test_invalid_offer_is_refused_when_reading_an_answer)
