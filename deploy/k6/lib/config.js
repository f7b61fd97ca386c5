/* global __ENV */
// Settings of every script, from `k6 run -e NAME=value` (or the environment).

/** The deployment's public origin, e.g. https://flotilla.example.com. */
export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/+$/, '');
export const API = `${BASE_URL}/api/v1`;

/** An administrator of the deployment: creates the test teams and members in setup(). */
export const ADMIN_EMAIL = __ENV.ADMIN_EMAIL || '';
export const ADMIN_PASSWORD = __ENV.ADMIN_PASSWORD || '';

/** Password of the members the scripts create (at least 12 characters). */
export const MEMBER_PASSWORD = __ENV.MEMBER_PASSWORD || 'k6-member-password-0123';

/** Prefix of the teams, members and polls a run creates, unique per run unless given. */
export const RUN_ID = __ENV.RUN_ID || `k6-${Date.now().toString(36)}`;

export const int = (name, fallback) => {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : parseInt(value, 10);
};
