package dev.wscrt.conformance;

import dev.wscrt.testing.Hex;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * UTF-8 test sequences for family 6 (groups 6.5 onwards), organised after Markus Kuhn's "UTF-8 decoder
 * capability and stress test", the source Autobahn's 6.x cases also follow: valid samples, boundaries,
 * malformed sequences (stray continuation bytes, lonely lead bytes, truncation, impossible bytes,
 * overlong forms, surrogates) and valid-but-unusual code points (noncharacters, specials). Each sequence
 * is sent alone as a TEXT message.
 *
 * <p>Each vector states its validity; the table is checked at load against the suite's own reference
 * ({@link Utf8}) and the JDK's strict decoder, so a typo here cannot turn into a wrong expectation.
 */
final class Utf8Vectors {

    /** One sequence. */
    record Vector(byte[] bytes, boolean valid) {
    }

    /** A group of sequences, numbered {@code id}.1, {@code id}.2, ... */
    record Group(String id, String title, List<Vector> vectors) {
    }

    private Utf8Vectors() {
    }

    static List<Group> groups() {
        List<Group> groups = new ArrayList<>();
        groups.add(group("6.5", "Valid UTF-8 samples",
                valid(Frames.utf8("hello$world")), valid(Frames.utf8("hello\u00a2world")),
                valid(Frames.utf8("hello\u20acworld")), valid(Frames.utf8("hello\ud852\udf62world")),
                valid(Frames.utf8("\u03ba\u1f79\u03c3\u03bc\u03b5"))));
        byte[] kosme = Frames.utf8("\u03ba\u1f79\u03c3\u03bc\u03b5");
        List<Vector> prefixes = new ArrayList<>();
        for (int i = 1; i <= kosme.length; i++) {
            byte[] prefix = java.util.Arrays.copyOf(kosme, i);
            prefixes.add(new Vector(prefix, i == 2 || i == 5 || i == 7 || i == 9 || i == 11));
        }
        groups.add(new Group("6.6", "Every prefix of a valid string with multi-byte code points", prefixes));
        groups.add(group("6.7", "First possible sequence of each length",
                valid("00"), valid("c2 80"), valid("e0 a0 80"), valid("f0 90 80 80")));
        groups.add(group("6.8", "First possible 5- and 6-byte sequences (beyond UTF-8)",
                invalid("f8 88 80 80 80"), invalid("fc 84 80 80 80 80")));
        groups.add(group("6.9", "Last possible sequence of each length",
                valid("7f"), valid("df bf"), valid("ef bf bf"), valid("f4 8f bf bf")));
        groups.add(group("6.10", "Last possible 4-, 5- and 6-byte sequences (beyond U+10FFFF)",
                invalid("f7 bf bf bf"), invalid("fb bf bf bf bf"), invalid("fd bf bf bf bf bf")));
        groups.add(group("6.11", "Other boundary conditions",
                valid("ed 9f bf"), valid("ee 80 80"), valid("ef bf bd"), valid("f4 8f bf bf"),
                invalid("f4 90 80 80")));
        StringBuilder allContinuations = new StringBuilder();
        for (int b = 0x80; b <= 0xbf; b++) {
            allContinuations.append(String.format("%02x ", b));
        }
        groups.add(group("6.12", "Unexpected continuation bytes",
                invalid("80"), invalid("bf"), invalid("80 bf"), invalid("80 bf 80"), invalid("80 bf 80 bf"),
                invalid("80 bf 80 bf 80"), invalid("80 bf 80 bf 80 bf"), invalid(allContinuations.toString())));
        groups.add(group("6.13", "Lonely lead bytes, each followed by a space",
                invalid(lonely(0xc0, 0xdf)), invalid(lonely(0xe0, 0xef)), invalid(lonely(0xf0, 0xf7)),
                invalid(lonely(0xf8, 0xfb)), invalid(lonely(0xfc, 0xfd))));
        String[] truncated = {"c0", "e0 80", "f0 80 80", "f8 80 80 80", "fc 80 80 80 80",
            "df", "ef bf", "f7 bf bf", "fb bf bf bf", "fd bf bf bf bf"};
        List<Vector> missing = new ArrayList<>();
        for (String t : truncated) {
            missing.add(invalid(t));
        }
        groups.add(new Group("6.14", "Sequences with the last continuation byte missing", missing));
        groups.add(group("6.15", "All the sequences of 6.14 concatenated", invalid(String.join(" ", truncated))));
        groups.add(group("6.16", "Impossible bytes", invalid("fe"), invalid("ff"), invalid("fe fe ff ff")));
        groups.add(group("6.17", "Overlong forms of '/'",
                invalid("c0 af"), invalid("e0 80 af"), invalid("f0 80 80 af"), invalid("f8 80 80 80 af"),
                invalid("fc 80 80 80 80 af")));
        groups.add(group("6.18", "Largest overlong forms",
                invalid("c1 bf"), invalid("e0 9f bf"), invalid("f0 8f bf bf"), invalid("f8 87 bf bf bf"),
                invalid("fc 83 bf bf bf bf")));
        groups.add(group("6.19", "Overlong forms of NUL",
                invalid("c0 80"), invalid("e0 80 80"), invalid("f0 80 80 80"), invalid("f8 80 80 80 80"),
                invalid("fc 80 80 80 80 80")));
        groups.add(group("6.20", "Single UTF-16 surrogates",
                invalid("ed a0 80"), invalid("ed ad bf"), invalid("ed ae 80"), invalid("ed af bf"),
                invalid("ed b0 80"), invalid("ed be 80"), invalid("ed bf bf")));
        groups.add(group("6.21", "Paired UTF-16 surrogates",
                invalid("ed a0 80 ed b0 80"), invalid("ed a0 80 ed bf bf"), invalid("ed ad bf ed b0 80"),
                invalid("ed ad bf ed bf bf"), invalid("ed ae 80 ed b0 80"), invalid("ed ae 80 ed bf bf"),
                invalid("ed af bf ed b0 80"), invalid("ed af bf ed bf bf")));
        List<Vector> nonCharacters = new ArrayList<>();
        for (int plane = 0; plane <= 16; plane++) {
            nonCharacters.add(valid(codePoint(plane * 0x10000 + 0xfffe)));
            nonCharacters.add(valid(codePoint(plane * 0x10000 + 0xffff)));
        }
        nonCharacters.add(valid(codePoint(0xfdd0)));
        nonCharacters.add(valid(codePoint(0xfdef)));
        groups.add(new Group("6.22", "Noncharacters (valid UTF-8: RFC 3629 allows them)", nonCharacters));
        groups.add(group("6.23", "Specials, BOM and private use (valid)",
                valid(codePoint(0xfff9)), valid(codePoint(0xfffa)), valid(codePoint(0xfffb)),
                valid(codePoint(0xfffc)), valid(codePoint(0xfffd)), valid(codePoint(0xfeff)),
                valid(codePoint(0xe000)), valid(codePoint(0xf8ff))));
        byte[] longPrefix = Frames.utf8("\u03ba".repeat(200));
        groups.add(group("6.24", "(wscrt) An invalid byte deep inside otherwise valid text",
                new Vector(Frames.concat(longPrefix, Hex.bytes("ce 41"), Frames.utf8("tail")), false),
                new Vector(Frames.concat(Frames.asciiPayload(300), Hex.bytes("ff"), Frames.asciiPayload(20)), false),
                new Vector(Frames.concat(Frames.utf8("emoji cut short: "), Hex.bytes("f0 9f 98")), false)));
        for (Group g : groups) {
            for (Vector v : g.vectors()) {
                boolean reference = Utf8.invalidAt(v.bytes()) == Utf8.VALID;
                if (reference != v.valid() || Utf8.jdkAccepts(v.bytes()) != v.valid()) {
                    throw new IllegalStateException("vector table error in " + g.id() + ": " + Hex.format(v.bytes())
                            + " marked " + (v.valid() ? "valid" : "invalid"));
                }
            }
        }
        return groups;
    }

    private static Group group(String id, String title, Vector... vectors) {
        return new Group(id, title, List.of(vectors));
    }

    private static Vector valid(String hex) {
        return new Vector(Hex.bytes(hex), true);
    }

    private static Vector valid(byte[] bytes) {
        return new Vector(bytes, true);
    }

    private static Vector invalid(String hex) {
        return new Vector(Hex.bytes(hex), false);
    }

    private static String lonely(int first, int last) {
        StringBuilder hex = new StringBuilder();
        for (int b = first; b <= last; b++) {
            hex.append(String.format("%02x 20 ", b));
        }
        return hex.toString();
    }

    private static byte[] codePoint(int cp) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
