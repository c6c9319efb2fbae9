/*
 * What a failed OpenSSL call means, as a wscrt error: certificate verify
 * results (expired, self-signed, unknown issuer, name mismatch), fatal alerts
 * from the peer (a missing client certificate named as such), version
 * mismatches, and the rest as handshake or record failures.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "common/error.h"
#include "common/logging.h"
#include "io/tls_context.h"
#include "io/tls_handler_impl.h"

static int s_map_verify_result(long result) {
    switch (result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return WSCRT_ERROR_TLS_CERT_EXPIRED;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return WSCRT_ERROR_TLS_CERT_SELF_SIGNED;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return WSCRT_ERROR_TLS_CERT_UNKNOWN_CA;
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return WSCRT_ERROR_TLS_CERT_HOSTNAME_MISMATCH;
        default:
            return WSCRT_ERROR_TLS_CERT_VERIFY_FAILED;
    }
}

static int s_map_received_alert(struct wscrt_tls_handler *handler, int alert) {
    WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: received fatal alert %d (%s)", (void *)handler, alert,
                     SSL_alert_desc_string_long(alert));
    switch (alert) {
        case SSL_AD_PROTOCOL_VERSION:
            return WSCRT_ERROR_TLS_PROTOCOL_VERSION;
        case SSL_AD_CERTIFICATE_REQUIRED:
            return WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED;
        case SSL_AD_HANDSHAKE_FAILURE:
        case SSL_AD_BAD_CERTIFICATE:
            /* What servers say when they wanted a certificate we lack: OpenSSL with TLS 1.2 sends
             * handshake_failure, Java's TLS engine sends bad_certificate under 1.2 and 1.3. */
            if (handler->client_cert_requested && !wscrt_tls_ctx_has_client_cert(handler->ctx)) {
                return WSCRT_ERROR_TLS_CLIENT_CERT_REQUIRED;
            }
            return WSCRT_ERROR_TLS_ALERT_RECEIVED;
        default:
            return WSCRT_ERROR_TLS_ALERT_RECEIVED;
    }
}

/* Call right after the failing call. */
int wscrt_tls_map_failure(struct wscrt_tls_handler *handler, int ssl_error, bool handshaking) {
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return handshaking ? WSCRT_ERROR_TLS_PEER_CLOSED_DURING_HANDSHAKE : WSCRT_ERROR_IO_SOCKET_CLOSED;
    }
    int reason = 0;
    unsigned long code;
    char text[256];
    while ((code = ERR_get_error()) != 0) {
        ERR_error_string_n(code, text, sizeof(text));
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: %s", (void *)handler, text);
        if (reason == 0 && ERR_GET_LIB(code) == ERR_LIB_SSL) {
            reason = ERR_GET_REASON(code);
        }
    }
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long result = SSL_get_verify_result(handler->ssl);
        WSCRT_LOGF_DEBUG(WSCRT_LS_IO_TLS, "id=%p: certificate verification failed: %s", (void *)handler,
                         X509_verify_cert_error_string(result));
        return s_map_verify_result(result);
    }
    if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        return s_map_received_alert(handler, reason - SSL_AD_REASON_OFFSET);
    }
    switch (reason) {
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_NO_PROTOCOLS_AVAILABLE:
        case SSL_R_WRONG_SSL_VERSION:
        case SSL_R_VERSION_TOO_LOW:
        case SSL_R_VERSION_TOO_HIGH:
            return WSCRT_ERROR_TLS_PROTOCOL_VERSION;
        default:
            return handshaking ? WSCRT_ERROR_TLS_HANDSHAKE_FAILURE : WSCRT_ERROR_TLS_IO_FAILURE;
    }
}
