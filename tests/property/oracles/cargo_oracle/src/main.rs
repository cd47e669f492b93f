// Reads "a<TAB>b" lines and prints the semver crate's precedence order (-1/0/1) or INVALID.
use std::cmp::Ordering;
use std::io::{self, BufRead, Write};

fn precedence(a: &semver::Version, b: &semver::Version) -> Ordering {
    // The crate's Ord also orders build metadata; SemVer precedence ignores it.
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

fn main() {
    let stdin = io::stdin();
    let mut out = io::stdout();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let mut parts = line.splitn(2, '\t');
        let a = semver::Version::parse(parts.next().unwrap_or(""));
        let b = semver::Version::parse(parts.next().unwrap_or(""));
        match (a, b) {
            (Ok(a), Ok(b)) => writeln!(out, "{}", precedence(&a, &b) as i8).unwrap(),
            _ => writeln!(out, "INVALID").unwrap(),
        }
        out.flush().unwrap();
    }
}
