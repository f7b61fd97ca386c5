import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 that carries the seconds to wait; the problem filter turns it into `Retry-After`. */
export class TooManyRequestsException extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests; try again later.',
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}
