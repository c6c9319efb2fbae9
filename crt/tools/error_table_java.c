/*
 * Build tool: writes dev/wscrt/CrtError.java, the Java view of the one error
 * table (WSCRT_ERROR_LIST in crt/common/error.h), so that C, JNI and Java all
 * derive from it: one enum constant per code, with its number, stable name
 * and message, and the message as its Javadoc.
 *
 * Usage: error_table_java <output file>
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* The message in a Javadoc comment: "*" + "/" would end it early, so it is broken up. */
static void s_write_doc(FILE *out, const char *message) {
    fputs("    /** ", out);
    for (const char *c = message; *c; ++c) {
        if (c[0] == '*' && c[1] == '/') {
            fputs("*&#47;", out);
            ++c;
        } else if (*c == '<') {
            fputs("&lt;", out);
        } else if (*c == '>') {
            fputs("&gt;", out);
        } else if (*c == '&') {
            fputs("&amp;", out);
        } else {
            fputc(*c, out);
        }
    }
    fputs(" */\n", out);
}

static void s_write_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const char *c = text; *c; ++c) {
        if (*c == '"' || *c == '\\') {
            fputc('\\', out);
        }
        fputc(*c, out);
    }
    fputc('"', out);
}

struct entry {
    const char *name;
    int code;
    const char *message;
};

static const struct entry s_entries[] = {
#define WSCRT_ERROR_TABLE_ENTRY(name, value, message) {#name, value, message},
    WSCRT_ERROR_LIST(WSCRT_ERROR_TABLE_ENTRY)
#undef WSCRT_ERROR_TABLE_ENTRY
};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <CrtError.java>\n", argv[0]);
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fputs("package dev.wscrt;\n\n"
          "/**\n"
          " * Every error the native runtime reports, generated at build time from the one error table\n"
          " * ({@code WSCRT_ERROR_LIST} in {@code crt/common/error.h}). A {@link CrtRuntimeException} carries one\n"
          " * ({@link CrtRuntimeException#error()}); its {@link #errorName()} is stable across releases, so match on\n"
          " * it (or on the constant) rather than on the message. Codes are grouped in ranges: common 0x0000,\n"
          " * io 0x0400, tls 0x0800, http 0x0C00, websocket 0x1000.\n"
          " */\n"
          "public enum CrtError {\n",
          out);
    size_t count = sizeof(s_entries) / sizeof(s_entries[0]);
    for (size_t i = 0; i < count; ++i) {
        const char *constant = s_entries[i].name + strlen("WSCRT_ERROR_");
        s_write_doc(out, s_entries[i].message);
        fprintf(out, "    %s(0x%04X, ", constant, s_entries[i].code);
        s_write_string(out, s_entries[i].message);
        fputs(i + 1 < count ? "),\n" : ");\n", out);
    }
    fputs("\n"
          "    private final int code;\n"
          "    private final String message;\n"
          "\n"
          "    CrtError(int code, String message) {\n"
          "        this.code = code;\n"
          "        this.message = message;\n"
          "    }\n"
          "\n"
          "    /**\n"
          "     * The numeric code, as native code reports it.\n"
          "     *\n"
          "     * @return the code, within its layer's range (for example 0x1000 and up for websocket errors); the\n"
          "     *         value {@link CrtRuntimeException#errorCode()} reports\n"
          "     */\n"
          "    public int code() {\n"
          "        return code;\n"
          "    }\n"
          "\n"
          "    /**\n"
          "     * The stable name, as {@link CrtRuntimeException#errorName()} reports it.\n"
          "     *\n"
          "     * @return the name, for example {@code WSCRT_ERROR_IO_SOCKET_TIMEOUT}\n"
          "     */\n"
          "    public String errorName() {\n"
          "        return \"WSCRT_ERROR_\" + name();\n"
          "    }\n"
          "\n"
          "    /**\n"
          "     * What went wrong, in one sentence.\n"
          "     *\n"
          "     * @return the message, the same for every occurrence of this error; a {@link CrtRuntimeException}\n"
          "     *         may add where and why ({@link CrtRuntimeException#detail()})\n"
          "     */\n"
          "    public String message() {\n"
          "        return message;\n"
          "    }\n"
          "\n"
          "    /**\n"
          "     * The error with this code, or {@link #UNKNOWN} for a code not in the table.\n"
          "     *\n"
          "     * @param code a native error code\n"
          "     * @return the constant whose {@link #code()} is {@code code}, or {@link #UNKNOWN}; never null\n"
          "     */\n"
          "    public static CrtError of(int code) {\n"
          "        for (CrtError error : values()) {\n"
          "            if (error.code == code) {\n"
          "                return error;\n"
          "            }\n"
          "        }\n"
          "        return UNKNOWN;\n"
          "    }\n"
          "}\n",
          out);
    return fclose(out) == 0 ? 0 : 1;
}
