// Mocha's spec reporter plus a closing "N passed, N failed" line, so CI can tell a run that executed
// no test from a green one.
import Mocha from 'mocha';

class CountingReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats ?? { passes: 0, failures: 0 };
      process.stdout.write(`${stats.passes} passed, ${stats.failures} failed\n`);
    });
  }
}

export = CountingReporter;
