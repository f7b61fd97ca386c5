import { describe, expect, it } from '@jest/globals';
import { PermanentDriverError } from '../cluster-driver.js';
import { formatCpu, formatMemory, parseCpu, parseMemory } from './quantity.js';

describe('quantities', () => {
  it('reads CPU in cores and millicores', () => {
    expect(parseCpu('2')).toBe(2000);
    expect(parseCpu('0.5')).toBe(500);
    expect(parseCpu('250m')).toBe(250);
  });

  it('reads memory with binary and decimal suffixes', () => {
    expect(parseMemory('4Gi')).toBe(4 * 1024 ** 3);
    expect(parseMemory('256Mi')).toBe(256 * 1024 ** 2);
    expect(parseMemory('1G')).toBe(1e9);
    expect(parseMemory('1024')).toBe(1024);
  });

  it('refuses what is not a quantity, as the caller’s mistake', () => {
    expect(() => parseCpu('two')).toThrow(PermanentDriverError);
    expect(() => parseCpu('-1')).toThrow(PermanentDriverError);
    expect(() => parseMemory('4GB')).toThrow(PermanentDriverError);
  });

  it('writes quantities back the way Kubernetes shows them', () => {
    expect(formatCpu(2000)).toBe('2');
    expect(formatCpu(1750)).toBe('1750m');
    expect(formatMemory(4 * 1024 ** 3)).toBe('4Gi');
    expect(formatMemory(768 * 1024 ** 2)).toBe('768Mi');
    expect(formatMemory(1000)).toBe('1000');
    expect(formatMemory(0)).toBe('0');
  });
});
