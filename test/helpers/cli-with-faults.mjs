// The built CLI with failures injected through main's test seam (never reachable from bin/): the
// faults come as JSON in WA_REPORT_TEST_FAULTS, e.g. {"archiveFailAfterBatches":2}.
import { main } from '../../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2), { faults: JSON.parse(process.env.WA_REPORT_TEST_FAULTS ?? '{}') });
