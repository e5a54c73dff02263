import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A .dockerignore as Docker reads it, for the forms this repository uses:
 * root-relative names and globs (`*`, `?`, `**`), one a line, `#` comments.
 * A pattern excludes a path when it matches the path or one of its parent
 * folders. Exceptions (`!`) and character classes are refused rather than
 * guessed at, so a .dockerignore this matcher cannot read fails the test.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const res: RegExp[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('!') || /[[\]\\]/.test(line)) throw new Error(`.dockerignore pattern not supported by the test's matcher: ${line}`);
    const pat = line.replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < pat.length; i++) {
      const c = pat[i]!;
      if (pat.startsWith('**/', i)) {
        re += '(?:.*/)?';
        i += 2;
      } else if (pat.startsWith('**', i)) {
        re += '.*';
        i += 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|]/g, '\\$&');
    }
    res.push(new RegExp(`^${re}$`));
  }
  return (path: string) => {
    const parts = path.split('/');
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (res.some((r) => r.test(prefix))) return true;
    }
    return false;
  };
}

/**
 * The files `docker build .` would send from `repo`: tracked and untracked
 * files that git does not ignore (so uncommitted work is included, as in a
 * developer's build), less those .dockerignore excludes.
 */
export function buildContextFiles(repo: string): string[] {
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((p) => p !== '');
  const ignored = dockerignoreMatcher(readFileSync(join(repo, '.dockerignore'), 'utf8'));
  // ls-files -c still lists tracked files deleted in the work tree.
  return [...new Set(listed)].filter((p) => !ignored(p) && existsSync(join(repo, p)) && statSync(join(repo, p)).isFile()).sort();
}

/** Copies the build context into `dest`, keeping file modes (scripts stay executable). */
export function copyBuildContext(repo: string, dest: string): string[] {
  const files = buildContextFiles(repo);
  for (const f of files) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    copyFileSync(join(repo, f), join(dest, f));
  }
  return files;
}
