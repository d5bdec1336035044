#!/usr/bin/env python3
"""check_backlog.py CONNINFO LATENESS_MIN: tthc.commune_backlog_daily against
the dossier state recomputed from tthc.filing_events, independently of the
C code.

Each partition's events are replayed in offset order; whenever the
partition's watermark (largest occurred_at - lateness) passes an hour, the
state of its dossiers is counted per commune (as tthc-alert's snapshots
are); a day's row is, per commune, the sum over the province's partitions of
their latest count at or before the midnight (Vietnam) that ends the day.
Prints the differences and exits 1 when there is one."""
import collections
import subprocess
import sys

HOUR = 3600 * 1000
VN = 7 * HOUR
DAY = 24 * HOUR


def vn_day(ms):
    return (ms + VN) // DAY


def psql(conninfo, sql):
    out = subprocess.run(["psql", "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          conninfo, "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def ms(v):
    return int(v) if v else None


class Cal:
    def __init__(self, rows):
        self.off = {int(d) for d, k in rows if k == "day_off"}
        self.sat = {int(d) for d, k in rows if k == "worked_saturday"}

    def working(self, day):
        wd = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        if day in self.off:
            return False
        return wd < 5 or (wd == 5 and day in self.sat)

    def any(self, a, b):
        return any(self.working(d) for d in range(a, b))


class Dossier:
    def __init__(self, ev):
        self.commune = ev["commune"]
        self.channel = ev["channel"]
        self.status = None
        self.pauses = 0
        self.submitted = None
        self.due = None
        self.orig_due = None
        self.hc = None
        self.last_seq = 0

    def apply(self, ev):
        if ev["seq"] <= self.last_seq:
            return
        self.last_seq = ev["seq"]
        if not self.commune and ev["commune"]:
            self.commune = ev["commune"]
        t = ev["type"]
        if ev["due"] is not None:
            if self.orig_due is None or t in ("SUPPLEMENT_RECEIVED", "RESUMED"):
                self.orig_due = ev["due"]
            self.due = ev["due"]
        if t == "TRANSFERRED":
            if ev["to_level"] != "COMMUNE":
                self.hc = None
        elif ev["hc_given"]:
            self.hc = ev["hc"]
        else:
            self.hc = self.commune if ev["level"] == "COMMUNE" else None
        if t == "SUBMITTED":
            if self.submitted is None:
                self.submitted = ev["at"]
            if self.status is None:
                self.status = "submitted"
        elif t == "RECEIVED":
            if self.status in (None, "submitted"):
                self.status = "paused" if self.pauses else "processing"
        elif t in ("SUPPLEMENT_REQUESTED", "SUSPENDED", "SUPPLEMENT_RECEIVED",
                   "RESUMED"):
            self.pauses = max(0, self.pauses + (1 if t in (
                "SUPPLEMENT_REQUESTED", "SUSPENDED") else -1))
            if self.status == "processing" and self.pauses:
                self.status = "paused"
            elif self.status == "paused" and not self.pauses:
                self.status = "processing"
        elif t in ("RESOLVED", "INTAKE_REFUSED", "STOPPED", "WITHDRAWN"):
            self.status = "closed"
        if self.status is None:
            self.status = "paused" if self.pauses else "processing"


def main():
    conninfo, lateness = sys.argv[1], int(sys.argv[2]) * 60 * 1000
    cal = Cal(psql(conninfo, "SELECT date - DATE '1970-01-01', kind "
                             "FROM tthc.holidays"))
    rows = psql(conninfo, """
        SELECT kafka_topic, kafka_partition, province_code, dossier_id, seq,
               event_type, tthc.epoch_ms(occurred_at), commune_code, channel,
               tthc.epoch_ms(due_at), handling_level, to_level,
               handling_commune_code, handling_commune_code IS NOT NULL
                 OR handling_level <> 'COMMUNE'
        FROM tthc.filing_events ORDER BY 1, 2, kafka_offset""")
    parts = collections.OrderedDict()
    for r in rows:
        parts.setdefault((r[0], int(r[1]), r[2]), []).append({
            "id": r[3], "seq": int(r[4]), "type": r[5], "at": int(r[6]),
            "commune": r[7] or None, "channel": r[8], "due": ms(r[9]),
            "level": r[10], "to_level": r[11] or None, "hc": r[12] or None,
            "hc_given": r[13] == "t"})
    # per province: midnight -> commune -> [open, paused, overdue, intake]
    snaps = collections.defaultdict(dict)
    for (topic, part, prov), evs in parts.items():
        dossiers, maxocc, next_tick = {}, None, None
        history = []  # (tick, counts)

        def snapshot(tick):
            day = vn_day(tick)
            c = collections.defaultdict(lambda: [0, 0, 0, 0])
            for d in dossiers.values():
                if d.status == "submitted":
                    if (d.channel == "ONLINE" and d.commune and d.submitted
                            is not None and cal.any(vn_day(d.submitted) + 1,
                                                    day)):
                        c[d.commune][3] += 1
                elif d.status in ("processing", "paused") and d.hc:
                    c[d.hc][0] += 1
                    c[d.hc][1] += d.status == "paused"
                    c[d.hc][2] += (d.status == "processing" and d.orig_due
                                   is not None and vn_day(d.orig_due) < day)
            history.append((tick, c))

        for ev in evs:
            if next_tick is None:
                next_tick = ev["at"] // HOUR * HOUR + HOUR
            maxocc = ev["at"] if maxocc is None else max(maxocc, ev["at"])
            while next_tick <= maxocc - lateness:
                snapshot(next_tick)
                next_tick += HOUR
            d = dossiers.get(ev["id"])
            if d is None:
                d = dossiers[ev["id"]] = Dossier(ev)
            d.apply(ev)
        for tick, c in history:
            if (tick + VN) % DAY == 0:
                snaps[prov].setdefault(tick, []).append(c)
    table = collections.defaultdict(dict)
    for r in psql(conninfo, """SELECT province_code, commune_code,
            day - DATE '1970-01-01', open, paused, overdue, intake_backlog
            FROM tthc.commune_backlog_daily"""):
        table[r[0]][(r[1], int(r[2]))] = [int(x) for x in r[3:]]
    bad = 0
    checked = 0
    for prov, rows_ in table.items():
        days = sorted({d for _, d in rows_})
        if days != list(range(days[0], days[-1] + 1)):
            print("%s: days are not contiguous: %s" % (prov, days))
            bad += 1
        for day in days:
            tick = (day + 1) * DAY - VN
            want = collections.defaultdict(lambda: [0, 0, 0, 0])
            for c in snaps[prov].get(tick, []):
                for commune, v in c.items():
                    for i in range(4):
                        want[commune][i] += v[i]
            communes = {c for c, d in rows_ if d == day} | {
                c for c, v in want.items() if any(v)}
            for commune in communes:
                got = rows_.get((commune, day))
                exp = want.get(commune, [0, 0, 0, 0])
                checked += 1
                if got != exp:
                    bad += 1
                    if bad <= 20:
                        print("%s %s day %d: table %s, recomputed %s"
                              % (prov, commune, day, got, exp))
    print("%d row(s) checked, %d difference(s), %d province(s)"
          % (checked, bad, len(table)))
    sys.exit(1 if bad or not checked else 0)


if __name__ == "__main__":
    main()
