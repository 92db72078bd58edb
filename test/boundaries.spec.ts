import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from './support/env.js';

interface Violation {
  file: string;
  line: number;
  target: string;
  reason: string;
}
interface Rules {
  shared: string[];
  compositionRoot: string[];
  public: Record<string, string[]>;
}
interface Checker {
  findViolations(files: { path: string; text: string }[], rules: Rules): Violation[];
  formatViolation(v: Violation): string;
}

const SCRIPT = path.join(PROJECT_ROOT, 'scripts/check-boundaries.mjs');
const checker = (await import(pathToFileURL(SCRIPT).href)) as Checker;

const RULES: Rules = {
  shared: ['common'],
  compositionRoot: ['app.module.ts'],
  public: { '*': ['*.module.ts', '*.service.ts'], auth: ['visibility.ts'], pictures: [] },
};

const check = (files: Record<string, string>) =>
  checker.findViolations(
    Object.entries(files).map(([p, text]) => ({ path: p, text })),
    RULES,
  );

describe('domain boundary check', () => {
  it("flags another domain's entity, even imported as a type, re-exported or imported dynamically", () => {
    const found = check({
      'src/pictures/picture.entity.ts': [
        "import { Injectable } from '@nestjs/common';",
        "import { User } from '../auth/user.entity.js';",
        "import type { Session } from '../auth/user-session.entity.js';",
        "export { UsersRepository } from '../auth/users.repository.js';",
        "const lazy = () => import('../auth/user.entity.js');",
        "// import { Old } from '../auth/old.entity.js';",
      ].join('\n'),
    });
    assert.deepEqual(
      found.map((v) => checker.formatViolation(v)),
      [
        "src/pictures/picture.entity.ts:2 imports src/auth/user.entity.ts (auth's entities and repositories are private)",
        "src/pictures/picture.entity.ts:3 imports src/auth/user-session.entity.ts (auth's entities and repositories are private)",
        "src/pictures/picture.entity.ts:4 imports src/auth/users.repository.ts (auth's entities and repositories are private)",
        "src/pictures/picture.entity.ts:5 imports src/auth/user.entity.ts (auth's entities and repositories are private)",
      ],
    );
  });

  it("accepts another domain's public surface, its own domain, the shared kernel and packages", () => {
    const found = check({
      'src/pictures/pictures.service.ts': [
        "import { UsersService } from '../auth/users.service.js';",
        "import { AuthModule } from '../auth/auth.module.js';",
        "import { canSee } from '../auth/visibility.js';",
        "import { Picture } from './picture.entity.js';",
        "import { toPage } from '../common/pagination.js';",
        "import { logger } from '../logger.js';",
        "import sharp from 'sharp';",
      ].join('\n'),
    });
    assert.deepEqual(found, []);
  });

  it('flags a private file of another domain, and one of a domain that declares no surface', () => {
    const found = check({
      'src/auth/csrf.ts': "import { PictureProcessor } from '../pictures/picture.processor.js';\nimport { x } from '../harvest/sources.js';",
    });
    assert.deepEqual(
      found.map((v) => [v.line, v.target, v.reason]),
      [
        [1, 'src/pictures/picture.processor.ts', "not in pictures's public surface"],
        [2, 'src/harvest/sources.ts', 'harvest declares no public surface in scripts/boundaries.json'],
      ],
    );
  });

  it('lets the composition root import anything, entities included', () => {
    assert.deepEqual(check({ 'src/app.module.ts': "import { User } from './auth/user.entity.js';" }), []);
  });

  describe('from the command line', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sightline-boundaries-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const write = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    };
    write('scripts/boundaries.json', JSON.stringify(RULES));
    write('src/auth/user.entity.ts', 'export class User {}');
    write('src/auth/users.service.ts', 'export class UsersService {}');
    const run = () => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });

    it('exits 0 when every import is allowed', () => {
      write('src/pictures/pictures.service.ts', "import { UsersService } from '../auth/users.service.js';");
      const r = run();
      assert.equal(r.status, 0, r.stderr);
    });

    it('exits 1 and lists the offending import', () => {
      write('src/pictures/picture.entity.ts', "\nimport type { User } from '../auth/user.entity.js';");
      const r = run();
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^src\/pictures\/picture\.entity\.ts:2 imports src\/auth\/user\.entity\.ts \(auth's entities and repositories are private\)$/m);
    });
  });
});
