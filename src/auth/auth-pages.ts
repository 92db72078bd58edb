// The few HTML pages of the login and token-claim flows. Plain forms, no scripts: they work
// without JavaScript and under the strict Content-Security-Policy of the API.

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
  main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem 2.25rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #aab; border-radius: 4px; }
  button { margin-top: 1.25rem; padding: .55rem 1.2rem; font-size: 1rem; border: 0; border-radius: 4px; background: #2b6cb0; color: #fff; cursor: pointer; }
  button.secondary { background: #718096; margin-left: .5rem; }
  .error { background: #fed7d7; color: #822727; padding: .5rem .75rem; border-radius: 4px; }
  .hint, dl { color: #4a5568; font-size: .9rem; }
  dt { font-weight: 600; } dd { margin: 0 0 .5rem; }
  code { background: #edf2f7; padding: 0 .25rem; border-radius: 3px; }
`;

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

export function devLoginPage(options: { action: string; abort: string; users: { name: string; role: string }[]; username?: string; error?: string }): string {
  const known = options.users.map((u) => `<code>${escapeHtml(u.name)}</code> (${escapeHtml(u.role)})`).join(', ');
  return page(
    'Sign in to Sightline',
    `<h1>Sign in to Sightline</h1>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="${escapeHtml(options.action)}" autocomplete="off">
  <label for="username">User name</label>
  <input type="text" id="username" name="username" required autofocus value="${escapeHtml(options.username ?? '')}">
  <label for="password">Password</label>
  <input type="password" id="password" name="password" required>
  <button type="submit">Sign in</button>
</form>
<p class="hint">Development identity provider. Users: ${known || 'none (set DEV_USERS)'}; the password is the user name unless DEV_USERS sets one.</p>
<p class="hint"><a href="${escapeHtml(options.abort)}">Cancel</a></p>`,
  );
}

export function devLogoutPage(host: string, form: string): string {
  return page(
    'Sign out',
    `<h1>Sign out of ${escapeHtml(host)}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}

export function logoutConfirmPage(options: { userName: string; action: string }): string {
  return page(
    'Log out',
    `<h1>Log out of Sightline?</h1>
<p>You are logged in as <strong>${escapeHtml(options.userName)}</strong>.</p>
<form method="post" action="${escapeHtml(options.action)}">
  <button type="submit">Log out</button>
  <a class="hint" href="/api/docs">Stay logged in</a>
</form>`,
  );
}

export function messagePage(title: string, text: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}

export function loginFailedPage(reason: string, retry: string): string {
  return page('Login failed', `<h1>Login failed</h1><p>${escapeHtml(reason)}.</p><p><a href="${escapeHtml(retry)}">Log in again</a></p>`);
}

export function errorPage(fields: Record<string, unknown>): string {
  const rows = Object.entries(fields)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  return page('Sign-in error', `<h1>Something went wrong</h1><dl>${rows}</dl>`);
}

export interface ClaimPageToken {
  id: string;
  description: string;
  createdAt: Date;
}

export function claimConfirmPage(options: { token: ClaimPageToken; userName: string; role: string; claimBefore: Date | null; action: string }): string {
  const { token } = options;
  return page(
    'Claim an API token',
    `<h1>Claim this API token?</h1>
<p>A program asked for an API token. Once you claim it, the program acts as <strong>${escapeHtml(options.userName)}</strong>
with all your rights (role: ${escapeHtml(options.role)}): it can read, upload, change and delete what you can, until you revoke it.</p>
<p><strong>Only claim it if you started that program yourself, just now.</strong> If someone sent you this link, do not claim it.</p>
<dl>
  <dt>Description</dt><dd>${escapeHtml(token.description || '(none)')}</dd>
  <dt>Requested at</dt><dd>${escapeHtml(token.createdAt.toISOString())}</dd>
  ${options.claimBefore ? `<dt>Claimable until</dt><dd>${escapeHtml(options.claimBefore.toISOString())}</dd>` : ''}
  <dt>Token id</dt><dd><code>${escapeHtml(token.id)}</code></dd>
</dl>
<form method="post" action="${escapeHtml(options.action)}">
  <button type="submit">Claim the token</button>
</form>`,
  );
}

export function claimDonePage(options: { token: ClaimPageToken; userName: string }): string {
  return page(
    'Token claimed',
    `<h1>Token claimed</h1>
<p>The token <code>${escapeHtml(options.token.id)}</code> (${escapeHtml(options.token.description || 'no description')}) now acts as
<strong>${escapeHtml(options.userName)}</strong>. You can close this window and go back to your program.</p>
<p class="hint">Revoke it any time with <code>DELETE /api/users/me/tokens/${escapeHtml(options.token.id)}</code>.</p>`,
  );
}
