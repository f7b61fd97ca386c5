import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { RpcError } from '@flotilla/contracts';
import { MAX_PROBLEM_ERRORS, sendProblem, toProblem } from './problem.js';

describe('toProblem', () => {
  it('keeps the status and message of HTTP exceptions', () => {
    expect(toProblem(new NotFoundException('Poll x does not exist.'), '/api/v1/polls/x')).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Poll x does not exist.',
      instance: '/api/v1/polls/x',
    });
  });

  it('carries field errors of validation failures', () => {
    const problem = toProblem(new BadRequestException({ message: 'The request is invalid.', errors: [{ path: 'email', message: 'email must be an email' }] }), '/x');
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: 'email', message: 'email must be an email' }]);
  });

  it('names at most MAX_PROBLEM_ERRORS invalid fields, saying how many there were: a small body of many bad items gets a small answer', () => {
    const errors = Array.from({ length: 5000 }, (_, i) => ({ path: `files.${i}`, message: 'each value in nested property files must be either object or array' }));
    const problem = toProblem(new BadRequestException({ message: 'The request is invalid.', errors }), '/x');
    expect(problem.errors).toHaveLength(MAX_PROBLEM_ERRORS);
    expect(problem.errors?.[0]).toEqual(errors[0]);
    expect(problem.detail).toBe(`The request is invalid. (The first ${MAX_PROBLEM_ERRORS} of 5000 problems are listed.)`);
    const rpc = toProblem(new RpcError('UNPROCESSABLE', 'Refused.', errors), '/x');
    expect(rpc.errors).toHaveLength(MAX_PROBLEM_ERRORS);
  });

  it('maps RPC error codes to HTTP statuses', () => {
    expect(toProblem(new RpcError('TIMEOUT', 'votes did not answer'), '/x').status).toBe(504);
    expect(toProblem(new RpcError('UNAVAILABLE', 'broker down'), '/x').status).toBe(503);
    expect(toProblem(new RpcError('CONFLICT', 'exists'), '/x').detail).toBe('exists');
  });

  it('hides the message of unexpected errors', () => {
    const problem = toProblem(new Error('connection string postgres://secret@db'), '/x');
    expect(problem.status).toBe(500);
    expect(problem.detail).not.toContain('secret');
  });

  it('uses the status of client errors raised by the HTTP server', () => {
    const problem = toProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' }, '/x');
    expect(problem.status).toBe(413);
    expect(problem.title).toBe('Payload Too Large');
  });

  it('answers 503 for an error the dependency rule recognises, without its message', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const isDown = (e: unknown): boolean => (e as { code?: string }).code === 'ECONNREFUSED';
    const problem = toProblem(down, '/x', isDown);
    expect(problem.status).toBe(503);
    expect(problem.detail).not.toContain('10.0.0.5');
    expect(toProblem(new Error('bug'), '/x', isDown).status).toBe(500);
    // HTTP exceptions keep their own status whatever the rule says.
    expect(toProblem(new NotFoundException('gone'), '/x', () => true).status).toBe(404);
  });
});

describe('sendProblem', () => {
  const reply = () => {
    const headers: Record<string, string> = {};
    const r = { status: () => r, header: (name: string, value: string) => ((headers[name] = value), r), send: () => r };
    return { r, headers };
  };

  it('gives every 503 a Retry-After, and keeps one the error carries', () => {
    const plain = reply();
    sendProblem(plain.r, toProblem(new RpcError('UNAVAILABLE', 'down'), '/x'), new RpcError('UNAVAILABLE', 'down'));
    expect(Number(plain.headers['Retry-After'])).toBeGreaterThan(0);
    const carried = reply();
    sendProblem(carried.r, { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: '', instance: '/x' }, { retryAfterSeconds: 7 });
    expect(carried.headers['Retry-After']).toBe('7');
    const other = reply();
    sendProblem(other.r, toProblem(new Error('bug'), '/x'), new Error('bug'));
    expect(other.headers['Retry-After']).toBeUndefined();
  });
});
