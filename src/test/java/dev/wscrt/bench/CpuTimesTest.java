package dev.wscrt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuTimesTest {
    private static final String BEFORE = String.join("\n",
            "cpu  1300 0 400 3000 10 0 100 0 0 0",
            "cpu0 1000 0 300 1000 10 0 90 0 0 0",
            "cpu1 300 0 100 2000 0 0 10 0 0 0",
            "intr 12345 0 0",
            "ctxt 999");
    // 400 ticks later on each CPU. cpu0: 250 user + 100 system + 50 softirq busy, nothing idle. cpu1: 30 user
    // + 10 system + 10 softirq busy, 290 idle, 20 iowait, 40 steal. The guest columns (last two) are inside
    // user already.
    private static final String AFTER = String.join("\n",
            "cpu  1580 0 510 3290 30 0 160 40 0 0",
            "cpu0 1250 0 400 1000 10 0 140 0 77 0",
            "cpu1 330 0 110 2290 20 0 20 40 0 0",
            "intr 22345 0 0",
            "ctxt 1999");

    @Test
    void busyIsUserNiceSystemAndInterruptsOfEachCpusTicksInBetween() {
        Map<String, Double> busy = CpuTimes.parse(AFTER).busySince(CpuTimes.parse(BEFORE));
        assertEquals(Map.of("cpu0Busy", 1.0, "cpu1Busy", 50.0 / 400), busy);
    }

    @Test
    void aCpuMissingFromEitherSampleOrWithoutTicksInBetweenHasNoShare() {
        String onlyCpu1 = "cpu1 300 0 100 2000 0 0 10 0 0 0\n";
        assertEquals(Map.of("cpu1Busy", 50.0 / 400),
                CpuTimes.parse(AFTER).busySince(CpuTimes.parse(onlyCpu1)));
        assertTrue(CpuTimes.parse(BEFORE).busySince(CpuTimes.parse(BEFORE)).isEmpty());
        assertTrue(CpuTimes.parse("").busySince(CpuTimes.parse(BEFORE)).isEmpty());
    }

    @Test
    void theReportGivesTheBusiestClientCpuAndTheServerCpuAsMediansOfTheRuns() {
        Environment env = new Environment();
        env.serverCpu = 1;
        Benchmark.Cell cell = new Benchmark.Cell();
        cell.runs.add(Map.of("seconds", 2.0, "cpu0Busy", 0.97, "cpu1Busy", 0.30));
        cell.runs.add(Map.of("seconds", 2.0, "cpu0Busy", 0.99, "cpu1Busy", 0.40));
        cell.runs.add(Map.of("seconds", 2.0, "cpu0Busy", 1.00, "cpu1Busy", 0.35));
        assertEquals(", CPU busy: client 99 %, server 35 %", Report.cpuBusy(cell, env));
    }

    @Test
    void withSeveralClientCpusTheBusiestCounts() {
        Environment env = new Environment();
        env.serverCpu = 3;
        Benchmark.Cell cell = new Benchmark.Cell();
        cell.runs.add(Map.of("seconds", 2.0, "cpu0Busy", 0.10, "cpu1Busy", 0.95, "cpu2Busy", 0.20, "cpu3Busy", 0.5));
        assertEquals(", CPU busy: client 95 %, server 50 %", Report.cpuBusy(cell, env));
    }

    @Test
    void theReportSaysNothingOfCpusWhenNothingWasPinned() {
        Environment env = new Environment();
        Benchmark.Cell cell = new Benchmark.Cell();
        cell.runs.add(Map.of("seconds", 2.0, "cpu0Busy", 0.97, "cpu1Busy", 0.30));
        assertEquals("", Report.cpuBusy(cell, env));
    }
}
