//! Judges texts with the default sanitizer, the one the layer and the gateway
//! use, for auditing logs and measuring detection.
//!
//! ```text
//! cargo run --release --example scan -- [--role user|system|assistant|tool] < texts.jsonl
//! ```
//!
//! Reads JSON lines from stdin, each an object with a `"text"` string (other
//! fields ignored), and writes exactly one JSON line per input line, flushed
//! per line: `{"verdict":"allow"|"flag"|"block","score":0.0-1.0,"rules":[…]}`,
//! plus `"too_long":true` when the text is over its role's character limit
//! (it is still judged on its content), or `{"error":"…"}` for a line that is
//! not such an object. `score` is the combination `1 - Π(1 - weight)` of the
//! matched rules' weights: 0 is nothing found, 0.5 and above flags, 0.85 and
//! above blocks (for roles that block). A summary goes to stderr. The exit
//! status is 0 unless stdin cannot be read (or the arguments are wrong: 2).

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde_json::{Value, json};
use spark_tower::sanitize::{Judge, Role, Verdict};

fn main() -> ExitCode {
    let mut role = Role::User;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--role" => args.next(),
            other => other.strip_prefix("--role=").map(str::to_owned),
        };
        match value.as_deref().and_then(Role::parse) {
            Some(parsed) => role = parsed,
            None => {
                eprintln!("usage: scan [--role user|system|assistant|tool] < texts.jsonl");
                return ExitCode::from(2);
            }
        }
    }

    let judge = Judge::default();
    let stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut counts = [0usize; 3];
    let mut errors = 0usize;
    // Lines as bytes: a line that is not UTF-8 gets its own error line and
    // the lines after it are still judged.
    for line in stdin.split(b'\n') {
        let mut line = match line {
            Ok(line) => line,
            Err(error) => {
                eprintln!("scan: cannot read stdin: {error}");
                return ExitCode::FAILURE;
            }
        };
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let out = match serde_json::from_slice::<Value>(&line) {
            Ok(Value::Object(object)) => match object.get("text") {
                Some(Value::String(text)) => {
                    let judgement = judge.judge(role, text, text.chars().count());
                    counts[judgement.verdict as usize] += 1;
                    let rules: Vec<&str> =
                        judgement.detection.rule_ids(judge.sanitizer()).collect();
                    let mut out = json!({
                        "verdict": judgement.verdict.as_str(),
                        "score": (f64::from(judgement.detection.score()) * 1000.0).round() / 1000.0,
                        "rules": rules,
                    });
                    if judgement.too_long {
                        out["too_long"] = Value::Bool(true);
                    }
                    out
                }
                _ => {
                    errors += 1;
                    json!({"error": "the object has no \"text\" string"})
                }
            },
            Ok(_) => {
                errors += 1;
                json!({"error": "the line is not a JSON object"})
            }
            Err(error) => {
                errors += 1;
                json!({"error": format!("invalid JSON: {error}")})
            }
        };
        if writeln!(stdout, "{out}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            // The reader went away: nothing more can be delivered.
            break;
        }
    }
    eprintln!(
        "scan: role {role}: {} allow, {} flag, {} block, {errors} errors",
        counts[Verdict::Allow as usize],
        counts[Verdict::Flag as usize],
        counts[Verdict::Block as usize],
    );
    ExitCode::SUCCESS
}
