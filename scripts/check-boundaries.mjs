#!/usr/bin/env node
// Domain boundaries: a file under src/<domain>/ may import from another domain src/<other>/ only
// what that domain declares public in scripts/boundaries.json, and never its entities or
// repositories. Type-only imports, re-exports and dynamic import() count the same.
// `node scripts/check-boundaries.mjs [root]` lists each offending import and exits 1.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** `*` within a path segment, `**` across segments, `?` one character; matched against the whole path. */
export function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const matchesAny = (globs, p) => (globs ?? []).some((g) => globToRegExp(g).test(p));

/** Where `specifier`, imported by `from` (both relative to the root), points: a .ts path, or null when it is a package. */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return null;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return target.replace(/\.(m|c)?js$/, (_m, k) => `.${k ?? ''}ts`);
}

/** `src/auth/auth.guard.ts` → { domain: 'auth', inner: 'auth.guard.ts' }; a file directly in src/ has no domain. */
function locate(file) {
  const parts = file.split('/');
  if (parts[0] !== 'src') return null;
  if (parts.length === 2) return { domain: null, inner: parts[1] };
  return { domain: parts[1], inner: parts.slice(2).join('/') };
}

/** Every module specifier of a TypeScript source, with its 1-based line. */
export function importsOf(text) {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const lineStarts = ts.computeLineStarts(text);
  return importedFiles.map((f) => ({ specifier: f.fileName, line: ts.computeLineAndCharacterOfPosition(lineStarts, f.pos).line + 1 }));
}

/**
 * The imports that cross a boundary. `files`: [{ path, text }] with paths relative to the project
 * root (`src/…`); `rules`: the content of scripts/boundaries.json.
 */
export function findViolations(files, rules) {
  const violations = [];
  for (const { path: file, text } of files) {
    const from = locate(file);
    if (!from) continue;
    if (from.domain === null && matchesAny(rules.compositionRoot, from.inner)) continue;
    for (const { specifier, line } of importsOf(text)) {
      const targetPath = resolveImport(file, specifier);
      const target = targetPath && locate(targetPath);
      if (!target || target.domain === null || target.domain === from.domain) continue;
      let reason = null;
      if (/\.(entity|repository)\.ts$/.test(target.inner)) reason = `${target.domain}'s entities and repositories are private`;
      else if (!rules.shared.includes(target.domain) && !matchesAny([...rules.public['*'], ...(rules.public[target.domain] ?? [])], target.inner)) {
        reason = rules.public[target.domain] ? `not in ${target.domain}'s public surface` : `${target.domain} declares no public surface in scripts/boundaries.json`;
      }
      if (reason) violations.push({ file, line, target: targetPath, reason });
    }
  }
  return violations;
}

export const formatViolation = (v) => `${v.file}:${v.line} imports ${v.target} (${v.reason})`;

function sourceFiles(root, dir) {
  const out = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (/\.(m|c)?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Checks the tree under `root`; returns the violations. */
export function checkTree(root) {
  const rules = JSON.parse(readFileSync(path.join(root, 'scripts/boundaries.json'), 'utf8'));
  const files = sourceFiles(root, 'src')
    .sort()
    .map((p) => ({ path: p, text: readFileSync(path.join(root, p), 'utf8') }));
  return findViolations(files, rules);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const violations = checkTree(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length) {
    console.error(`${violations.length} import(s) cross a domain boundary: import the domain's public surface, or declare the file public in scripts/boundaries.json`);
    process.exit(1);
  }
  console.log('domain boundaries: ok');
}
