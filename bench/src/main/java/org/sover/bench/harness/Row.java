package org.sover.bench.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One line of the results table: per-run figures of Sover and of the same-run reference. */
final class Row {
    enum Better { HIGHER, LOWER }

    final String title;
    final String unit;
    final String refTitle;
    final String goal;
    /** The goal as a test on the medians: ratio or absolute; null for a row given for information only. */
    final java.util.function.BiPredicate<Double, Double> met;
    final Better better;
    final List<Double> sover = new ArrayList<>();
    final List<Double> ref = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    final List<String> errors = new ArrayList<>();
    String setup = "";

    Row(String title, String unit, String refTitle, String goal, Better better,
            java.util.function.BiPredicate<Double, Double> met) {
        this.title = title;
        this.unit = unit;
        this.refTitle = refTitle;
        this.goal = goal;
        this.better = better;
        this.met = met;
    }

    boolean hasRef() {
        return refTitle != null;
    }

    List<Double> ratios() {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < Math.min(sover.size(), ref.size()); i++) {
            r.add(sover.get(i) / ref.get(i));
        }
        return r;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        double a = Math.abs(v);
        String p = a >= 1000 ? "%,.0f" : a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, p, v);
    }

    static String cell(List<Double> xs, String unit) {
        if (xs.isEmpty()) {
            return "—";
        }
        String m = fmt(median(xs)) + (unit.isEmpty() ? "" : " " + unit);
        if (xs.size() == 1) {
            return m + " (1 run)";
        }
        return m + " (" + fmt(xs.stream().mapToDouble(d -> d).min().getAsDouble()) + "–"
                + fmt(xs.stream().mapToDouble(d -> d).max().getAsDouble()) + ")";
    }

    String verdict() {
        if (sover.isEmpty()) {
            return "not measured";
        }
        if (met == null) {
            return "for information";
        }
        double r = hasRef() && !ref.isEmpty() ? median(ratios()) : Double.NaN;
        return met.test(median(sover), r) ? "met" : "**missed**";
    }
}
