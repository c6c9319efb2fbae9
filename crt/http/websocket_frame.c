#include "http/websocket_frame.h"

bool wscrt_websocket_close_code_is_valid(uint16_t code) {
    /* 1004 is reserved, 1005 and 1006 are local-only ("no status", "abnormal
     * closure") and 1015 is the local TLS failure code: none may go on the wire. */
    if (code >= 1000 && code <= 1003) {
        return true;
    }
    if (code >= 1007 && code <= 1014) {
        return true;
    }
    /* 3000-3999 registered with IANA, 4000-4999 private use. */
    return code >= 3000 && code <= 4999;
}
