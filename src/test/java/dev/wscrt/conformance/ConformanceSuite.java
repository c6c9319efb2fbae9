package dev.wscrt.conformance;

import java.util.List;
import java.util.function.Supplier;

/** The case families, in Autobahn|Testsuite's order (there is no family 8 or 11 there either). */
final class ConformanceSuite {

    /** One family: its number, title and cases. */
    record Family(String number, String title, List<ConformanceCase> cases) {
    }

    private ConformanceSuite() {
    }

    static List<Family> families() {
        return List.of(
                family("1", "Framing", FramingCases::all),
                family("2", "Pings and pongs", PingPongCases::all),
                family("3", "Reserved bits", ReservedBitsCases::all),
                family("4", "Opcodes", OpcodeCases::all),
                family("5", "Fragmentation", FragmentationCases::all),
                family("6", "UTF-8 handling", Utf8Cases::all),
                family("7", "Close handling", CloseCases::all),
                family("9", "Limits and performance", LimitsCases::all),
                family("10", "Miscellaneous", MiscCases::all),
                family("12", "permessage-deflate: payloads and sizes", CompressionCases::family12),
                family("13", "permessage-deflate: negotiated parameters", CompressionCases::family13));
    }

    private static Family family(String number, String title, Supplier<List<ConformanceCase>> cases) {
        List<ConformanceCase> list = cases.get();
        for (ConformanceCase c : list) {
            if (!c.id().startsWith(number + ".")) {
                throw new IllegalStateException("case " + c.id() + " filed under family " + number);
            }
        }
        return new Family(number, title, list);
    }
}
