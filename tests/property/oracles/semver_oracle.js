// Read "C<TAB>a<TAB>b" (compare, loose mode) or "V<TAB>s" (strict and loose validity) lines.
const readline = require("readline");
const semver = require(process.argv[2]);
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  const [op, a, b] = line.split("\t");
  let answer;
  if (op === "V") {
    answer = `${semver.valid(a) !== null ? 1 : 0}${semver.valid(a, { loose: true }) !== null ? 1 : 0}`;
  } else if (semver.valid(a, { loose: true }) === null || semver.valid(b, { loose: true }) === null) {
    answer = "INVALID";
  } else {
    answer = String(semver.compare(a, b, { loose: true }));
  }
  process.stdout.write(answer + "\n");
});
