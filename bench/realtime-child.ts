// One real-time run in a process of its own (see runRealtimeIsolated): the
// benchmark's parent holds gigabytes of in-process pipeline by then, and on a
// VM whose host samples page accesses a bigger process pays more for it.
import { runRealtime, type RealtimeOptions } from './realtime-bench.js';

const opts = JSON.parse(process.argv[2] ?? '') as RealtimeOptions;
runRealtime(opts).then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
