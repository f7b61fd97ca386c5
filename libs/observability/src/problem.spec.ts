import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { RpcError } from '@flotilla/contracts';
import { toProblem } from './problem.js';

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
});
