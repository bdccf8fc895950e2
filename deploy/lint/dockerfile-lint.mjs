// Lints Dockerfiles with dockerfile-utils, the validator behind VS Code's Dockerfile support:
// unknown instructions and flags, bad arguments, malformed JSON forms, a stage copied from that
// does not exist, duplicate CMD/ENTRYPOINT, relative WORKDIR, casing. Every problem it can
// report is an error here, so a clean run means none at all.
//   node dockerfile-lint.mjs FILE...            exit 1 when any file has a problem
//   node dockerfile-lint.mjs --expect-fail FILE exit 1 unless the file has a problem (the
//                                                 linter's own check: it must catch a bad file)
import { readFileSync } from 'node:fs';
import { validate, ValidationSeverity } from 'dockerfile-utils';

const strict = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

let args = process.argv.slice(2);
const expectFail = args[0] === '--expect-fail';
if (expectFail) args = args.slice(1);
if (args.length === 0) {
  console.error('usage: node dockerfile-lint.mjs [--expect-fail] FILE...');
  process.exit(2);
}

let problems = 0;
for (const file of args) {
  const text = readFileSync(file, 'utf8');
  for (const d of validate(text, strict)) {
    problems++;
    const sev = d.severity === 1 ? 'error' : 'warning';
    if (!expectFail) console.error(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${sev}: ${d.message}`);
  }
}
if (expectFail) {
  if (problems === 0) {
    console.error(`dockerfile-lint: expected problems in ${args.join(', ')}, found none: the linter checks nothing`);
    process.exit(1);
  }
  console.log(`dockerfile-lint: ${problems} problem(s) found in the bad sample, as expected`);
} else if (problems > 0) {
  process.exit(1);
} else {
  console.log(`dockerfile-lint: ${args.join(', ')}: no problems`);
}
