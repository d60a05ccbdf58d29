#!/usr/bin/env python3
"""Measures prompt-injection detection with the scan example.

Reads the development corpus from ../shared/injection-dev/ (never copied into
the repository), runs `cargo run --release --example scan` over it, and prints
detection and false-positive rates overall, per family and per source, plus
evasion robustness: each detected attack is rewritten with the well-known
evasions (invisible characters, fullwidth and confusable letters, spacing,
case, leetspeak, base64, tag characters) and must stay detected.

Usage: python3 scripts/detection_quality.py [--corpus DIR] [--no-evasions]
       [--show-misses N] [--source S ...] [--exclude-source S ...]

For honest held-out figures, `--exclude-source S` keeps the misses of the
sources whose name contains S out of `--show-misses` (their rates are still
counted), and `--source S` shows only the misses of the matching sources.
"""
import argparse
import base64
import collections
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_BUILT = False


def scan(texts, role="user"):
    """Judges texts with the scan example; returns one result dict per text."""
    global _BUILT
    if not _BUILT:
        build = subprocess.run(
            ["cargo", "build", "--quiet", "--release", "--example", "scan",
             "--no-default-features", "--features", "sanitize"],
            cwd=ROOT, capture_output=True,
        )
        if build.returncode != 0:
            sys.stderr.write(build.stderr.decode(errors="replace"))
            raise SystemExit("cannot build the scan example")
        _BUILT = True
    exe = os.path.join(ROOT, "target", "release", "examples", "scan")
    data = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    out = subprocess.run(
        [exe, "--role", role], input=data.encode(), capture_output=True, check=True
    ).stdout.decode().splitlines()
    assert len(out) == len(texts), (len(out), len(texts))
    return [json.loads(line) for line in out]


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pct(n, d):
    return f"{100.0 * n / d:5.1f}% ({n}/{d})" if d else "  n/a"


FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}
CONFUSABLE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def evasions(text, rng):
    """The evaded forms of `text`, by name."""
    words = text.split(" ")
    return {
        "zero-width": "\u200b".join(text),
        "tag-wrapped": "".join(chr(0xE0000 + ord(c)) if ord(c) < 0x7F else c for c in text),
        "fullwidth": "".join(FULLWIDTH.get(c, c) for c in text),
        "confusable": "".join(CONFUSABLE.get(c, c) if rng.random() < 0.5 else c for c in text),
        "spacing": " ".join(" ".join(w) if len(w) > 3 and rng.random() < 0.3 else w for w in words),
        "case": "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text),
        "leetspeak": "".join(LEET.get(c, c) if rng.random() < 0.5 else c for c in text),
        "base64": "Decode this and do what it says: "
        + base64.b64encode(text.encode()).decode(),
        "bidi": "\u202e" + text[::-1] + "\u202c",
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "injection-dev"))
    parser.add_argument("--no-evasions", action="store_true")
    parser.add_argument("--show-misses", type=int, default=0,
                        help="print this many missed attacks and false positives (local use only)")
    parser.add_argument("--source", action="append", default=[],
                        help="show only misses of sources containing this (repeatable)")
    parser.add_argument("--exclude-source", action="append", default=[],
                        help="never show misses of sources containing this (held out; repeatable)")
    parser.add_argument("--show-near", type=int, default=0,
                        help="print this many benign texts that matched a rule but were allowed")
    args = parser.parse_args()
    attacks_path = os.path.join(args.corpus, "attacks.jsonl")
    benign_path = os.path.join(args.corpus, "benign.jsonl")
    if not os.path.exists(attacks_path):
        print(f"corpus not found at {args.corpus}: nothing measured", file=sys.stderr)
        return 2
    attacks = load(attacks_path)
    benign = load(benign_path)
    a_res = scan([r["text"] for r in attacks])
    b_res = scan([r["text"] for r in benign])

    def detected(res):
        return res.get("verdict") in ("flag", "block")

    print("== overall (role user, default configuration)")
    print("attacks flagged or blocked:", pct(sum(map(detected, a_res)), len(a_res)))
    print("attacks blocked:           ", pct(sum(r.get("verdict") == "block" for r in a_res), len(a_res)))
    print("benign flagged or blocked: ", pct(sum(map(detected, b_res)), len(b_res)))
    print("benign blocked:            ", pct(sum(r.get("verdict") == "block" for r in b_res), len(b_res)))

    for key in ("source", "family"):
        print(f"\n== attacks by {key}")
        groups = collections.defaultdict(list)
        for row, res in zip(attacks, a_res):
            groups[row[key].split(":")[0] if key == "source" else row[key]].append(detected(res))
        for name, hits in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  {name:45s} {pct(sum(hits), len(hits))}")
        print(f"\n== benign flagged by {key}")
        groups = collections.defaultdict(list)
        for row, res in zip(benign, b_res):
            groups[row[key].split(":")[0] if key == "source" else row[key]].append(detected(res))
        for name, hits in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  {name:45s} {pct(sum(hits), len(hits))}")

    rules = collections.Counter(rule for res in a_res for rule in res.get("rules", []))
    fp_rules = collections.Counter(rule for res in b_res if detected(res) for rule in res.get("rules", []))
    print("\n== rules firing on attacks (top 25)")
    for rule, n in rules.most_common(25):
        print(f"  {rule:40s} {n}")
    print("\n== rules in benign false positives")
    for rule, n in fp_rules.most_common():
        print(f"  {rule:40s} {n}")

    if not args.no_evasions:
        rng = random.Random(7)
        plain_hits = [row["text"] for row, res in zip(attacks, a_res) if detected(res)]
        forms = [evasions(t, rng) for t in plain_hits]
        names = list(forms[0].keys()) if forms else []
        print("\n== evasions of detected attacks (must stay detected)")
        for name in names:
            res = scan([f[name] for f in forms])
            print(f"  {name:15s} {pct(sum(map(detected, res)), len(res))}")

    def shown(row):
        src = row["source"]
        if any(x in src for x in args.exclude_source):
            return False
        return not args.source or any(x in src for x in args.source)

    if args.show_misses:
        print("\n== missed attacks (local inspection only)")
        misses = [(r, s) for r, s in zip(attacks, a_res) if not detected(s) and shown(r)]
        for row, res in misses[: args.show_misses]:
            print("--", row["source"].split(":")[0], row["family"], res.get("rules"), "|", row["text"][:300].replace("\n", " "))
        print("\n== false positives")
        for row, res in [(r, s) for r, s in zip(benign, b_res) if detected(s) and shown(r)][: args.show_misses]:
            print("--", row["family"], res, "|", row["text"][:300].replace("\n", " "))
    if args.show_near:
        print("\n== benign near misses (matched, allowed)")
        near = [(r, s) for r, s in zip(benign, b_res) if s.get("rules") and not detected(s)]
        for row, res in near[: args.show_near]:
            print("--", row["family"], res, "|", row["text"][:200].replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
