import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContextFiles, dockerignoreMatcher } from './context.js';

test('the .dockerignore matcher follows Docker: root-relative names cover whole folders, **/ matches at any depth', () => {
  const ignored = dockerignoreMatcher('# comment\nnode_modules\n/dist/\ntest\n**/*.log\n');
  assert.ok(ignored('node_modules'));
  assert.ok(ignored('node_modules/fastify/package.json'));
  assert.ok(ignored('dist/src/cli/parley.js'));
  assert.ok(ignored('test/deploy/x.ts'));
  assert.ok(ignored('server.log'));
  assert.ok(ignored('web/src/debug.log'));
  assert.ok(!ignored('src/test.ts'), 'a root pattern does not match deeper names');
  assert.ok(!ignored('src/test/x.ts'));
  assert.ok(!ignored('testing/x.ts'));
  assert.ok(!ignored('distance.ts'));
  assert.throws(() => dockerignoreMatcher('!keep.me\n'), /not supported/);
});

test('the build context has the server and web sources, the lockfile and docker scripts, and no node_modules, dist, models, tests or .git', () => {
  const files = buildContextFiles(process.cwd());
  for (const f of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'src/cli/parley.ts', 'config/default.json', 'docker/build.sh', 'docker/runtime-setup.sh', 'web/tsconfig.json']) {
    assert.ok(files.includes(f), `${f} is in the build context`);
  }
  for (const prefix of ['node_modules/', 'dist/', 'models/', 'test/', '.git/', 'deploy/']) {
    assert.deepEqual(files.filter((f) => f.startsWith(prefix)), [], `nothing under ${prefix}`);
  }
});
