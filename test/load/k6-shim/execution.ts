// k6/execution's default export; the test sets the scenario start time.
const exec = { scenario: { name: 'shim', startTime: Date.now() } };
export default exec;
