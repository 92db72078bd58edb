// Only types from cli-commands.ts: it imports this file, and a value import would be a cycle.
import type { CliCommand } from '../cli-commands.js';
import type { User } from './user.entity.js';
import { TokensService } from './tokens.service.js';
import { UsersService } from './users.service.js';

/** `--name value` and `--flag` arguments. */
function flagsOf(args: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    if (!args[i]!.startsWith('--')) continue;
    const next = args[i + 1];
    out[args[i]!.slice(2)] = next !== undefined && !next.startsWith('--') ? (i++, next) : true;
  }
  return out;
}

const USAGE = '--user <name> [--admin] [--description <text>] [--expires-in-days <n>]';

/** `token create`: a token for scripts and first setup, without a browser. */
export const AUTH_CLI_COMMANDS: CliCommand[] = [
  {
    path: ['token', 'create'],
    usage: USAGE,
    description: 'Print an API token acting as the user named <name> (made as a local user when nobody has that name); ' + '--admin makes that user an administrator',
    async run(app, args) {
      const flags = flagsOf(args);
      const name = flags.user;
      if (typeof name !== 'string' || !name.trim()) {
        process.stderr.write(`Usage: npm run cli -- token create ${USAGE}\n`);
        return 64;
      }
      let expiresAt: Date | null = null;
      if (flags['expires-in-days'] !== undefined) {
        const days = Number(flags['expires-in-days']);
        if (!Number.isFinite(days) || days <= 0) {
          process.stderr.write('--expires-in-days must be a positive number\n');
          return 64;
        }
        expiresAt = new Date(Date.now() + days * 86_400_000);
      }
      const users = app.get(UsersService);
      const matches = await users.findByName(name.trim());
      if (matches.length > 1) {
        process.stderr.write(
          `Several users are named ${name}:\n${matches.map((u) => `  ${u.id}  ${u.issuer}  ${u.email ?? ''}`).join('\n')}\n` +
            'Give one of them a distinct name first, or create the token from their session.\n',
        );
        return 1;
      }
      let user: User = matches[0] ?? (await users.upsertLocal(name.trim(), 'user'));
      if (flags.admin === true && user.role !== 'admin') user = await users.setRoleUnchecked(user.id, 'admin');
      const description = typeof flags.description === 'string' ? flags.description : `command line token of ${user.name}`;
      const { token, jwt } = await app.get(TokensService).create(user.id, description, expiresAt);
      process.stderr.write(
        `Token ${token.id} for ${user.name} (${user.role}, user ${user.id})${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}.\n` +
          'Send it as "Authorization: Bearer <token>"; revoke it with DELETE /api/users/me/tokens/' +
          `${token.id}.\n`,
      );
      process.stdout.write(`${jwt}\n`);
      return 0;
    },
  },
];
