// The public API as the scripts use it: JSON requests, login, and a token per member kept
// for the life of the VU (renewed before it expires, and after a 401).
import http from 'k6/http';
import { check, fail } from 'k6';
import { API, ADMIN_EMAIL, ADMIN_PASSWORD } from './config.js';

/** Request parameters: JSON, the bearer token, and a `name` tag grouping URLs with ids in them. */
export function params(token, name, extra) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return Object.assign({ headers, tags: { name } }, extra || {});
}

export function post(path, body, token, name) {
  return http.post(`${API}${path}`, JSON.stringify(body), params(token, name || `POST ${path}`));
}

export function get(path, token, name) {
  return http.get(`${API}${path}`, params(token, name || `GET ${path}`));
}

/** `POST /auth/login`; the access token, or undefined (the check records the failure). */
export function login(email, password) {
  const res = post('/auth/login', { email, password }, undefined, 'login');
  const ok = check(res, { 'login: 200': (r) => r.status === 200 });
  return ok ? res.json('accessToken') : undefined;
}

/** The administrator's token, for setup(); stops the test when it cannot log in. */
export function adminLogin() {
  if (!ADMIN_EMAIL || !ADMIN_PASSWORD) fail('set ADMIN_EMAIL and ADMIN_PASSWORD (-e ADMIN_EMAIL=… -e ADMIN_PASSWORD=…)');
  const token = login(ADMIN_EMAIL, ADMIN_PASSWORD);
  if (!token) fail(`the administrator ${ADMIN_EMAIL} could not log in`);
  return token;
}

// Per VU: the member it acts as and its token. Access tokens live 15 minutes by
// default (JWT_ACCESS_TTL_SECONDS); a new one is fetched after 10.
const RENEW_MS = 10 * 60 * 1000;
const sessions = {};

/**
 * A valid token for `member` ({email, password, and the token setup() got, if any}),
 * logging in when there is none or it is getting old.
 */
export function tokenFor(member) {
  const session = sessions[member.email] || (member.token ? { token: member.token, at: member.tokenAt } : undefined);
  if (session && Date.now() - session.at < RENEW_MS) return session.token;
  const token = login(member.email, member.password);
  if (token) sessions[member.email] = { token, at: Date.now() };
  return token;
}

/** Forgets the token of `member` (after a 401), so the next call logs in again. */
export function dropToken(member) {
  sessions[member.email] = { token: undefined, at: 0 };
}

/** Logs every member in once (in setup()), so the VUs start with their tokens. */
export function withTokens(members) {
  return members.map((m) => Object.assign({}, m, { token: login(m.email, m.password), tokenAt: Date.now() }));
}
