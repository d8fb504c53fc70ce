#!/usr/bin/env python3
"""report.py: bench/run's measurements as bench/RESULTS.md (and JSON).

  report.py --results results.jsonl --meta meta.tsv --out RESULTS.md
            [--json results.json]

results.jsonl: one object per measured step ({"tool","step","round",
"wall","user","sys","rss_kib","bytes","repo_bytes"}) or per extra fact
({"tool":"floor","step","result"}; floor steps: read, crypto, crypto-sha,
crypto-photos, crypto-sha-photos).  A step measured in several rounds has
one object per round ("round": 1..N; no "round" counts as round 1).

For each (step, tool) the report uses the best round, the one with the
least wall time: every figure of it, except repo_bytes, which comes from
the last round (its repository is the one kept for the later steps, so
the day-2 "added" bytes are computed on one repository).  results.json's
steps[STEP][TOOL] is that best round ("round": which one; "repo_round":
where repo_bytes comes from) plus "rounds": every round's measurement, in
order.  results.json's photos_floor_ratio: coffre's best photos-only
backup MB/s / each photos floor's (crypto-photos is the target's).
meta.tsv: KEY<TAB>VALUE lines.  The markdown is also printed on stdout.
Both files are written atomically (temp file + rename).
"""

import argparse
import json
import os
import sys
import tempfile

MiB = 1 << 20
PEERS = ["restic", "borg-zstd", "borg-lz4"]
TOOLS = ["coffre"] + PEERS
LABEL = {"coffre": "coffre", "restic": "restic --compression auto",
         "borg-zstd": "borg zstd,3", "borg-lz4": "borg lz4"}
FLOOR_LABEL = {
    "read": "read from the page cache",
    "crypto": "keyed BLAKE2b + encrypt (the target's floor)",
    "crypto-sha": "HMAC-SHA-256 + encrypt (coffre's primitives)",
}
STEPS = [
    ("backup", "First backup", "day-1 corpus"),
    ("rebackup", "Unchanged re-backup", "day-1 corpus"),
    ("day2", "Day-2 backup", "day-2 corpus"),
    ("restore", "Restore (day-2 snapshot, into an empty directory)",
     "day-2 corpus"),
    ("check", "check --read-data (every byte of the repository)",
     "day-2 corpus"),
]


def load(args):
    rows = []
    with open(args.results, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    meta = {}
    with open(args.meta, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" in line:
                k, v = line.split("\t", 1)
                meta[k] = v
    info = {}
    if meta.get("corpus_info") and os.path.exists(meta["corpus_info"]):
        with open(meta["corpus_info"], encoding="utf-8") as f:
            info = json.load(f)
    return rows, meta, info


def mb(n):
    return n / 1e6


def fmt(x, nd=2):
    if x is None:
        return "n/a"
    return "%.*f" % (nd, x)


def ratio(x):
    return "n/a" if x is None else "%.2f×" % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows, meta, info = load(args)

    floors = {}
    measured = {}  # step -> tool -> every round's measurement
    for r in rows:
        if r["tool"] == "floor":
            floors[r["step"]] = r["result"]
            continue
        r = dict(r)
        r.setdefault("round", 1)
        r["cpu"] = r["user"] + r["sys"]
        r["mbps"] = mb(r["bytes"]) / r["wall"] if r["bytes"] and \
            r["wall"] > 0 else None
        r["rss_mib"] = r["rss_kib"] / 1024
        measured.setdefault(r["step"], {}).setdefault(r["tool"], []).append(r)
    # the best round of each (step, tool), with the kept (last) round's
    # repository size, and every round under "rounds"
    steps = {}
    for step, by_tool in measured.items():
        for tool, rs in by_tool.items():
            rs.sort(key=lambda x: x["round"])
            best = dict(min(rs, key=lambda x: x["wall"]))
            best["repo_bytes"] = rs[-1]["repo_bytes"]
            best["repo_round"] = rs[-1]["round"]
            best["rounds"] = rs
            steps.setdefault(step, {})[tool] = best
    n_rounds = int(meta.get("rounds") or 0) or max(
        [len(rs) for bt in measured.values() for rs in bt.values()] or [1])

    def get(step, tool):
        return steps.get(step, {}).get(tool)

    def best_of(step, tool=None):
        """'best of N rounds' or 'measured once', as the step was run"""
        tools = [tool] if tool else list(steps.get(step, {}))
        n = max([len(steps[step][t]["rounds"]) for t in tools
                 if t in steps.get(step, {})] or [1])
        return "best of %d rounds" % n if n > 1 else "measured once"

    def spread(step):
        """the wall time of each tool over the rounds, min–max"""
        parts, sizes = [], []
        for t in TOOLS:
            r = get(step, t)
            if not r or len(r["rounds"]) < 2:
                continue
            walls = [x["wall"] for x in r["rounds"]]
            lo, hi = min(walls), max(walls)
            parts.append("%s %s–%s s (+%.0f%%)" % (
                LABEL[t], fmt(lo), fmt(hi), 100 * (hi - lo) / lo
                if lo > 0 else 0))
            # each round of a day-1 step has its own repository: say when
            # their sizes differ by more than 0.1%
            rb = [x["repo_bytes"] for x in r["rounds"]]
            if step in ("backup", "rebackup") and \
                    max(rb) > 1.001 * min(rb):
                sizes.append("%s %s–%s MiB" % (LABEL[t], fmt(min(rb) / MiB, 2),
                                               fmt(max(rb) / MiB, 2)))
        if not parts:
            return None
        text = "Wall over %d rounds, fastest–slowest (+: how much slower " \
            "the slowest round was): %s." % (
                max(len(get(step, t)["rounds"]) for t in TOOLS
                    if get(step, t)), "; ".join(parts))
        if sizes:
            text += " Repository sizes differed by more than 0.1%% between " \
                "rounds: %s (the table gives the last round's)." % \
                "; ".join(sizes)
        return text

    # bytes added by day 2 = repository growth over the day-2 backup
    added = {}
    for t in TOOLS:
        a, b = get("rebackup", t), get("day2", t)
        if a and b:
            added[t] = b["repo_bytes"] - a["repo_bytes"]

    quick = meta.get("scale") == "quick"
    out = []
    w = out.append
    w("# coffre benchmark results")
    w("")
    w("Made by `%s` on %s (%s min, corpus generation included when it "
      "was not cached)." % (meta.get("command", "bench/run"),
                            meta.get("date", "?"),
                            fmt(int(meta.get("elapsed_seconds", 0)) / 60, 1)))
    w("")
    if quick:
        w("**Quick run (~100 MiB corpus): indicative only.** The targets "
          "are stated for the 1 GiB corpus; run `bench/run` for them.")
        w("")
    w("## Machine and versions")
    w("")
    w("| | |")
    w("|---|---|")
    for k, label in [("cpu", "CPU"), ("cores", "cores"), ("ram", "RAM"),
                     ("kernel", "kernel"), ("filesystem", "work directory"),
                     ("coffre_version", "coffre"),
                     ("coffre_commit", "coffre commit"),
                     ("coffre_binary", "coffre binary"),
                     ("restic_version", "restic"),
                     ("borg_version", "borg"),
                     ("libsodium_version", "libsodium"),
                     ("nettle_version", "Nettle"),
                     ("zstd_version", "zstd"),
                     ("dcmtk_version", "dcmtk (corpus)")]:
        w("| %s | %s |" % (label, meta.get(k, "?").replace("|", "\\|")))
    loads = sorted(r["load1"] for r in rows if "load1" in r)
    if loads:
        cores = int(meta.get("cores", "0") or 0)
        w("")
        w("Load average (1 min) just before each measured command: "
          "min %.1f, median %.1f, max %.1f, on %d cores." % (
              loads[0], loads[len(loads) // 2], loads[-1], cores))
        if cores and loads[len(loads) // 2] > cores:
            w("**The machine was busy with other work during this run: "
              "its timings are noisy; re-measure on a quiet machine.** "
              "Sizes do not depend on load.")
    w("")

    # ---------------------------------------------------------- corpus
    w("## Corpus")
    w("")
    d1 = info.get("day1", {})
    day1_bytes = int(meta.get("day1_bytes", 0))
    day2_bytes = int(meta.get("day2_bytes", 0))
    w("A medical practice's data, generated deterministically by "
      "`bench/corpus.py` (scale `%s`, digest `%s`: %s)." % (
          meta.get("scale"), meta.get("corpus_digest", "?")[:16],
          meta.get("corpus_reference", "?")))
    w("")
    w("| kind | files | MiB | what |")
    w("|---|---:|---:|---|")
    desc = {
        "imaging": "real CT (Debian's invesalius-examples) as per-slice "
                   "DICOM (dcmtk), 512×512 16-bit, one study per fake "
                   "patient, each shifted, cropped, rescaled, with its own "
                   "noise",
        "documents": "letters (text), reports (PDF with text), scanned "
                     "letters (PDF with a noise image)",
        "photos": "incompressible JPEG-sized files, 2-6 MB",
        "sql": "SQL dump of the practice database (CREATE TABLE + INSERT: "
               "patients, appointments, invoices, notes)",
    }
    for k in ("imaging", "documents", "photos", "sql"):
        if k in d1:
            w("| %s | %d | %s | %s |" % (k, d1[k][0], fmt(d1[k][1] / MiB, 1),
                                         desc[k]))
    w("| **total, day 1** | %s | %s (%s GB) | |" % (
        meta.get("day1_files", "?"), fmt(day1_bytes / MiB, 1),
        fmt(day1_bytes / 1e9, 3)))
    w("| **total, day 2** | %s | %s (%s GB) | |" % (
        meta.get("day2_files", "?"), fmt(day2_bytes / MiB, 1),
        fmt(day2_bytes / 1e9, 3)))
    w("")
    d2 = info.get("day2", {})
    if d2:
        sql = d2.get("sql", {})
        w("Day 2 (applied in place after the day-1 steps): a new CT study "
          "(%d files, %s MiB), %d new documents, %d new photos (%s MiB); "
          "the SQL dump with %d of its %d lines changed or added (%.2f%%: "
          "appointments and invoices whose status changed in the middle of "
          "the file, sparse patient updates, rows appended to each table; "
          "%s → %s MiB); %d files touched (mtime changed, same content, "
          "%s MiB)." % (
              d2["new_imaging"][0], fmt(d2["new_imaging"][1] / MiB, 1),
              d2["new_documents"][0], d2["new_photos"][0],
              fmt(d2["new_photos"][1] / MiB, 1),
              sql.get("changed_or_added", 0), sql.get("lines", 0),
              100.0 * sql.get("changed_or_added", 0) /
              max(1, sql.get("lines", 1)),
              fmt(sql.get("bytes_day1", 0) / MiB, 1),
              fmt(sql.get("bytes_day2", 0) / MiB, 1),
              d2["touched"][0], fmt(d2["touched"][1] / MiB, 1)))
        w("")

    # ----------------------------------------------------------- floor
    w("## The floor of this machine")
    w("")
    w("`coffre-floor` (bench/floor.c) reads the files in 1 MiB pieces on "
      "all cores and, in its two crypto modes, hashes and encrypts each "
      "piece: the least any encrypted, deduplicating backup must do. "
      "**keyed BLAKE2b + encrypt** (`--mode crypto`: keyed BLAKE2b-256 and "
      "XChaCha20-Poly1305, libsodium) is the floor the incompressible-data "
      "target is stated against. **HMAC-SHA-256 + encrypt** (`--mode "
      "crypto-sha`: HMAC-SHA-256 with Nettle, which uses the CPU's SHA "
      "instructions when it has them, and the same XChaCha20-Poly1305) is "
      "what coffre's own primitives must do per blob; it leaves out the "
      "SHA-256 of each pack (its name). Best of 3 runs, page cache warm.")
    w("")
    w("| floor | data | MB | s | MB/s | threads |")
    w("|---|---|---:|---:|---:|---:|")
    for k, data in [("read", "whole corpus (day 1)"),
                    ("crypto", "whole corpus (day 1)"),
                    ("crypto-sha", "whole corpus (day 1)"),
                    ("crypto-photos", "photos only (day 2)"),
                    ("crypto-sha-photos", "photos only (day 2)")]:
        f = floors.get(k)
        if f:
            w("| %s | %s | %s | %s | %s | %d |" % (
                FLOOR_LABEL.get(f["mode"], f["mode"]), data,
                fmt(mb(f["bytes"]), 1), fmt(f["seconds"], 3),
                fmt(f["mbps"], 1), f["threads"]))
    w("")

    # ---------------------------------------------------------- tables
    w("## Results")
    w("")
    if n_rounds > 1:
        w("Each step was measured in %d rounds, the tools taking turns "
          "(round r starts with the r-th tool), each round's first backup "
          "into a fresh repository; **each row is the tool's best round** "
          "(the least wall time; best of %d rounds), every figure of the "
          "row from that round except repo MiB, taken from the last round, "
          "whose repositories are kept for day 2, restore and check. The "
          "line under each table gives the spread of wall time over the "
          "rounds. The day-2 backup is measured once: an incremental "
          "backup into the kept repository, it cannot be repeated there "
          "with the same meaning." % (n_rounds, n_rounds))
    else:
        w("Each step was measured once (`--rounds 1`): on a machine "
          "doing other work a single measurement varies by 10-30%; "
          "`bench/run --rounds N` takes the best of N rounds.")
    w("")
    w("Wall: elapsed time of the command (the shell's clock around "
      "`/usr/bin/time`); CPU: user + system; MB/s: corpus bytes / wall "
      "(MB = 10⁶ bytes); peak RSS: the command's maximum resident set; "
      "repo: the repository's size after the step (`du -sb`, MiB = 2²⁰ "
      "bytes). Speed-up: the peer's wall / coffre's wall (how many times "
      "faster coffre is); size: coffre's repository / the peer's. Each "
      "restore was compared file by file (SHA-256) with the corpus.")
    w("")
    for key, title, data in STEPS:
        if key not in steps:
            continue
        nbytes = next(iter(steps[key].values()))["bytes"]
        w("### %s — %s, %s MB%s" % (
            title, data, fmt(mb(nbytes), 1),
            " (%s)" % best_of(key) if n_rounds > 1 else ""))
        w("")
        head = "| tool | wall s | CPU s | MB/s | peak RSS MiB | repo MiB |"
        sep = "|---|---:|---:|---:|---:|---:|"
        if key == "day2":
            head += " added MiB |"
            sep += "---:|"
        head += " coffre speed-up | size coffre/peer |"
        sep += "---:|---:|"
        if key == "day2":
            head += " added coffre/peer |"
            sep += "---:|"
        w(head)
        w(sep)
        c = get(key, "coffre")
        for t in TOOLS:
            r = get(key, t)
            if not r:
                continue
            cells = [LABEL[t], fmt(r["wall"]), fmt(r["cpu"]),
                     fmt(r["mbps"], 1) if r["mbps"] else "n/a",
                     fmt(r["rss_mib"], 1), fmt(r["repo_bytes"] / MiB, 1)]
            if key == "day2":
                cells.append(fmt(added.get(t, 0) / MiB, 1))
            if t == "coffre" or not c:
                cells += ["—", "—"] + (["—"] if key == "day2" else [])
            else:
                cells.append(ratio(r["wall"] / c["wall"]))
                cells.append(ratio(c["repo_bytes"] / r["repo_bytes"]
                                   if r["repo_bytes"] else None))
                if key == "day2":
                    cells.append(ratio(added["coffre"] / added[t]
                                       if added.get(t) else None))
            w("| " + " | ".join(cells) + " |")
        w("")
        sp = spread(key)
        if sp:
            w(sp)
            w("")

    # coffre's own summary of each backup (--json), read from the logs
    own = []
    logs = meta.get("logs_dir")
    for tool, step in [("coffre", "backup"), ("coffre", "rebackup"),
                       ("coffre", "day2"), ("coffre-photos-1", "backup"),
                       ("coffre-photos-2", "backup"),
                       ("coffre-photos-3", "backup"),
                       ("coffre-x4", "backup")]:
        r = get(step, tool)
        if not logs or not r:
            continue
        # the best round's log (bench/run names them TOOL-STEP-rROUND)
        p = os.path.join(logs, "%s-%s-r%d.out" % (tool, step, r["round"]))
        if not os.path.exists(p):
            p = os.path.join(logs, "%s-%s.out" % (tool, step))
        if not os.path.exists(p):
            continue
        try:
            with open(p, encoding="utf-8") as f:
                j = json.load(f)
        except ValueError:
            continue
        j["label"] = "%s %s" % (tool, step)
        if len(r["rounds"]) > 1:
            j["label"] += " (round %d, the best)" % r["round"]
        j["wall"] = r["wall"]
        own.append(j)
    if own:
        w("### coffre's own summary of its backups (`backup --json`)")
        w("")
        w("`duration` is coffre's own measure of the backup, after the "
          "identity is unlocked; wall includes everything.")
        w("")
        w("| backup | wall s | duration s | files new / changed / "
          "unchanged | read MiB | added MiB | stored MiB |")
        w("|---|---:|---:|---|---:|---:|---:|")
        for j in own:
            w("| %s | %s | %s | %d / %d / %d | %s | %s | %s |" % (
                j["label"], fmt(j["wall"]), fmt(j["duration_seconds"]),
                j["files_new"], j["files_changed"], j["files_unchanged"],
                fmt(j["bytes_read"] / MiB, 1), fmt(j["bytes_added"] / MiB, 1),
                fmt(j["bytes_stored"] / MiB, 1)))
        w("")

    unlock = get("unlock", "coffre")
    if unlock:
        walls = [x["wall"] for x in unlock["rounds"]]
        w("`coffre snapshots` (unlocking the identity, Argon2id `--kdf "
          "interactive`, and reading the snapshot list) alone: %s s wall "
          "(%s%s), %s MiB peak RSS. Every coffre command pays this." % (
              fmt(unlock["wall"]), best_of("unlock", "coffre"),
              "; %s–%s s" % (fmt(min(walls)), fmt(max(walls)))
              if len(walls) > 1 else "", fmt(unlock["rss_mib"], 1)))
        w("")

    # photos, and the floors they are compared with (the target's first)
    photo_floors = [
        ("crypto-photos", "the target's floor (keyed BLAKE2b + encrypt"),
        ("crypto-sha-photos", "the floor of coffre's primitives "
         "(HMAC-SHA-256 + encrypt"),
    ]
    photo_ratios = {}
    photos = [steps["backup"][t] for t in
              sorted(steps.get("backup", {})) if t.startswith("coffre-ph")]
    best_photos = max(photos, key=lambda r: r["mbps"] or 0) if photos \
        else None
    if best_photos:
        w("### Incompressible data: coffre backup of the photos only, into "
          "a fresh repository (best of %d)" % len(photos))
        w("")
        w("| run | wall s | CPU s | MB/s | peak RSS MiB | repo MiB |")
        w("|---|---:|---:|---:|---:|---:|")
        for r in photos:
            w("| %s | %s | %s | %s | %s | %s |" % (
                r["tool"], fmt(r["wall"]), fmt(r["cpu"]),
                fmt(r["mbps"], 1), fmt(r["rss_mib"], 1),
                fmt(r["repo_bytes"] / MiB, 1)))
        w("")
        vs = []
        for k, what in photo_floors:
            fl = floors.get(k)
            if fl:
                vs.append("%.0f%% of %s, %s MB/s)" % (
                    100 * best_photos["mbps"] / fl["mbps"], what,
                    fmt(fl["mbps"], 1)))
        if vs:
            w("The best run (%s MB/s) is %s, on the same photos.%s" % (
                fmt(best_photos["mbps"], 1), " and ".join(vs),
                " The target uses the first." if len(vs) > 1 else ""))
            w("")

    x4 = get("backup", "coffre-x4")
    if x4:
        c1 = get("backup", "coffre")
        w("### RSS scaling: coffre first backup of 1× and 4× the corpus")
        w("")
        w("| data | MB | wall s | MB/s | peak RSS MiB |")
        w("|---|---:|---:|---:|---:|")
        for label, r in [("1× (the first backup above)", c1),
                         ("4× (4 practices, different patients)", x4)]:
            w("| %s | %s | %s | %s | %s |" % (
                label, fmt(mb(r["bytes"]), 1), fmt(r["wall"]),
                fmt(r["mbps"], 1), fmt(r["rss_mib"], 1)))
        w("")
    else:
        w("RSS scaling (4× the corpus): %s." % meta.get("rss_scaling",
                                                        "not run"))
        w("")

    # --------------------------------------------------------- targets
    targets = []

    def target(name, measured, ok):
        if ok is None:
            res = "NOT RUN"
        else:
            res = "PASS" if ok else "MISS"
        targets.append(dict(target=name, measured=measured, result=res))

    def speedup(step, peer):
        c, p = get(step, "coffre"), get(step, peer)
        if not c or not p:
            return None
        return p["wall"] / c["wall"]

    for peer in ("restic", "borg-zstd"):
        s = speedup("backup", peer)
        target("first backup ≥ 2.5× %s's throughput" % LABEL[peer],
               "%s (%s vs %s MB/s)" % (
                   ratio(s), fmt(get("backup", "coffre")["mbps"], 1),
                   fmt(get("backup", peer)["mbps"], 1)),
               s is not None and s >= 2.5)
    c = get("backup", "coffre")["repo_bytes"]
    smaller = min(get("backup", "restic")["repo_bytes"],
                  get("backup", "borg-zstd")["repo_bytes"])
    target("first backup's repository ≤ 1.03× the smaller of restic's and "
           "borg zstd,3's", "%s (%s vs %s MiB)" % (
               ratio(c / smaller), fmt(c / MiB, 1), fmt(smaller / MiB, 1)),
           c <= 1.03 * smaller)
    cw, rw = get("rebackup", "coffre")["wall"], get("rebackup",
                                                     "restic")["wall"]
    target("unchanged re-backup ≤ 1/5 of restic's time",
           "%s s vs %s s (1/%s)" % (fmt(cw), fmt(rw), fmt(rw / cw, 1)),
           cw <= rw / 5)
    target("day-2 backup adds no more bytes than restic's",
           "%s vs %s MiB" % (fmt(added["coffre"] / MiB, 2),
                             fmt(added["restic"] / MiB, 2)),
           added["coffre"] <= added["restic"])
    for step, label in (("restore", "restore"),
                        ("check", "check --read-data")):
        s = speedup(step, "restic")
        target("%s ≥ 2.5× restic's throughput" % label,
               "%s (%s vs %s MB/s)" % (
                   ratio(s), fmt(get(step, "coffre")["mbps"], 1),
                   fmt(get(step, "restic")["mbps"], 1)),
               s >= 2.5)
    # a bound on memory: the most of any round, not the best round's
    cf = [(x, k) for k, _t, _d in STEPS if get(k, "coffre")
          for x in get(k, "coffre")["rounds"]]
    peak, peak_step = max(cf, key=lambda x: x[0]["rss_kib"])
    target("peak RSS ≤ 64 MiB for the 1 GiB corpus (every coffre command)",
           "%s MiB (%s%s)%s" % (
               fmt(peak["rss_mib"], 1), peak_step,
               ", round %d; the most of all rounds" % peak["round"]
               if n_rounds > 1 else "",
               "; quick corpus, not 1 GiB" if quick else ""),
           peak["rss_mib"] <= 64)
    if x4:
        c1 = get("backup", "coffre")
        delta = x4["rss_mib"] - c1["rss_mib"]
        target("peak RSS ≤ +16 MiB for 4× the data (first backup)",
               "%+.1f MiB (%s → %s MiB)" % (delta, fmt(c1["rss_mib"], 1),
                                            fmt(x4["rss_mib"], 1)),
               delta <= 16)
    else:
        target("peak RSS ≤ +16 MiB for 4× the data (first backup)",
               "not run (bench/run --rss-scaling)", None)
    fl = floors.get("crypto-photos")
    if best_photos:
        for k, _what in photo_floors:
            if floors.get(k):
                photo_ratios[k] = best_photos["mbps"] / floors[k]["mbps"]
    if best_photos and fl:
        frac = photo_ratios["crypto-photos"]
        measured = "%.0f%% of keyed BLAKE2b + encrypt, the target's floor " \
            "(%s vs %s MB/s)" % (100 * frac, fmt(best_photos["mbps"], 1),
                                 fmt(fl["mbps"], 1))
        sha = floors.get("crypto-sha-photos")
        if sha:
            measured += "; for information, %.0f%% of HMAC-SHA-256 + " \
                "encrypt, coffre's primitives (%s MB/s)" % (
                    100 * photo_ratios["crypto-sha-photos"],
                    fmt(sha["mbps"], 1))
        target("backup of incompressible data ≥ 70% of the all-cores "
               "crypto floor", measured, frac >= 0.70)

    w("## Targets")
    w("")
    if quick:
        w("(Quick corpus: indicative only.)")
        w("")
    if n_rounds > 1:
        w("Timings: each tool's best of %d rounds (the day-2 backup: "
          "measured once); peak RSS: the most of all rounds." % n_rounds)
        w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    for t in targets:
        w("| %s | %s | **%s** |" % (t["target"], t["measured"],
                                    t["result"]))
    w("")
    w("---")
    w("")
    w("Reproduce: `%s` (see bench/README.md). Logs of every command are "
      "in the work directory's `logs/`." % meta.get("command", "bench/run"))
    w("")
    text = "\n".join(out)

    write_atomic(args.out, text)
    sys.stdout.write(text)
    if args.json:
        doc = dict(meta=meta, corpus=info, floors=floors, steps=steps,
                   day2_added_bytes=added, targets=targets,
                   photos_floor_ratio=photo_ratios, rounds=n_rounds)
        write_atomic(args.json, json.dumps(doc, indent=1, sort_keys=True,
                                           ensure_ascii=False) + "\n")


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


if __name__ == "__main__":
    main()
