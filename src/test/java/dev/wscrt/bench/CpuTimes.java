package dev.wscrt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Time each CPU has spent busy and in all, from {@code /proc/stat}, to tell which side bounds a measured run:
 * with the server and the clients pinned to CPUs of their own, the side whose CPU was busy all the run long
 * is the bottleneck, and the other side's figure says how much it had to spare.
 */
final class CpuTimes {
    private static final CpuTimes UNKNOWN = new CpuTimes(Map.of());

    /** Per CPU number: {busy, total} in clock ticks since boot. */
    private final Map<Integer, long[]> ticks;

    private CpuTimes(Map<Integer, long[]> ticks) {
        this.ticks = ticks;
    }

    /** The counters now; none where {@code /proc/stat} cannot be read (not Linux). */
    static CpuTimes now() {
        try {
            return parse(Files.readString(Path.of("/proc/stat")));
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /**
     * Reads the per-CPU lines ({@code cpu<N> user nice system idle iowait irq softirq steal ...}). Busy is user,
     * nice, system, irq and softirq; idle, iowait and steal (time the hypervisor gave to others) are not.
     * Guest time is already inside user and nice, so the columns after steal are left out of the total.
     */
    static CpuTimes parse(String procStat) {
        Map<Integer, long[]> ticks = new TreeMap<>();
        for (String line : procStat.split("\n")) {
            if (!line.startsWith("cpu") || line.length() < 4 || !Character.isDigit(line.charAt(3))) {
                continue; // the first line sums every CPU; the others are not CPU lines
            }
            String[] f = line.trim().split("\\s+");
            if (f.length < 9) {
                continue;
            }
            long user = Long.parseLong(f[1]);
            long nice = Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long idle = Long.parseLong(f[4]);
            long iowait = Long.parseLong(f[5]);
            long irq = Long.parseLong(f[6]);
            long softirq = Long.parseLong(f[7]);
            long steal = Long.parseLong(f[8]);
            long busy = user + nice + system + irq + softirq;
            ticks.put(Integer.parseInt(f[0].substring(3)), new long[] {busy, busy + idle + iowait + steal});
        }
        return new CpuTimes(ticks);
    }

    /**
     * The share of each CPU's time spent busy between {@code before} and this sample, as entries
     * {@code cpu<N>Busy} (0 to 1); none for a CPU without ticks in between or not in both samples.
     */
    Map<String, Double> busySince(CpuTimes before) {
        Map<String, Double> shares = new TreeMap<>();
        ticks.forEach((cpu, after) -> {
            long[] earlier = before.ticks.get(cpu);
            if (earlier != null && after[1] > earlier[1]) {
                shares.put(key(cpu), (double) (after[0] - earlier[0]) / (after[1] - earlier[1]));
            }
        });
        return shares;
    }

    /** The result entry of one CPU's busy share. */
    static String key(int cpu) {
        return "cpu" + cpu + "Busy";
    }

    /** The CPU whose busy share the result entry {@code key} is; -1 for any other entry. */
    static int cpuOf(String key) {
        if (!key.startsWith("cpu") || !key.endsWith("Busy") || key.length() <= 7) {
            return -1;
        }
        String number = key.substring(3, key.length() - 4);
        return number.chars().allMatch(Character::isDigit) ? Integer.parseInt(number) : -1;
    }
}
